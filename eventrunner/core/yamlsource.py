"""YAML loading that remembers where every value came from, and refuses hostile files.

Schedule errors must point at a line (`FILE:LINE: message`), so the loader builds
dicts and lists that carry the line of each key and item. YAML 1.1 quirks that bite
schedule authors are switched off: `11:30` stays the string "11:30" (not the base-60
number 690) and dates stay strings, so the schedule module parses them itself.

Schedule files are untrusted, so everything is bounded before it can cost much: the
file's size and kind, the size of the document with its aliases expanded (an alias
bomb is a few KB that expands to millions of values), the nesting, the length of
numbers, and the tags (only plain values; `!!timestamp`, `!!set`, `!foo` are refused).
Every failure is a `YamlProblem` with a line.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1 << 20  # a day's schedule is a few KB
MAX_NODES = 10_000  # a long day is a few thousand values, aliases expanded
MAX_CHARS = MAX_BYTES  # characters in all the text, aliases expanded
MAX_DEPTH = 64  # a schedule nests 6 deep
MAX_NUMBER = 30  # characters; int() of long digit strings is slow or refused (4,300 digits)

_EXPANDED = "an alias counts all it repeats, each time it is used"
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_CORE + name for name in ("null", "bool", "int", "float", "str", "seq", "map"))


class LineDict(dict):
    """A mapping with the 1-based line of the mapping and of each key."""

    line: int
    key_lines: dict[Any, int]


class LineList(list):
    """A sequence with the 1-based line of the sequence and of each item."""

    line: int
    item_lines: list[int]


class YamlProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def quoted(value: object, limit: int = 40) -> str:
    """`value` in quotes for a problem message, cut short: the file may hold megabytes there."""
    text = str(value)
    return f"'{text if len(text) <= limit else text[: limit - 1] + '…'}'"


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


class _Loader(yaml.SafeLoader):
    """Counts what it composes, so a document's expanded size is known before anything is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._chars = 0
        self._depth = 0
        self._sizes: dict[int, tuple[int, int]] = {}  # id(anchored node) -> (nodes, chars) expanded

    def _grow(self, line: int, nodes: int, chars: int) -> None:
        self._nodes += nodes
        self._chars += chars
        if self._nodes > MAX_NODES:
            raise YamlProblem(line, f"YAML: too big, more than {MAX_NODES} values by this line ({_EXPANDED})")
        if self._chars > MAX_CHARS:
            raise YamlProblem(
                line, f"YAML: too big, more than {MAX_CHARS} characters of text by this line ({_EXPANDED})"
            )

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                size = self._sizes.get(id(target))
                if size is None:  # still being composed: the alias is inside its own anchor
                    raise YamlProblem(
                        line, f"YAML: alias {quoted('*' + event.anchor)} is inside its own anchor"
                    )
                self._grow(line, *size)
            return super().compose_node(parent, index)  # an undefined alias is the composer's error
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
            raise YamlProblem(
                line, f"YAML: the tag {quoted(_tag_name(tag))} is not allowed; write plain values"
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlProblem(line, f"YAML: nested too deeply (more than {MAX_DEPTH} levels)")
        before = (self._nodes, self._chars)
        self._grow(line, 1, len(event.value) if isinstance(event, yaml.ScalarEvent) else 0)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if event.anchor is not None:
            self._sizes[id(node)] = (self._nodes - before[0], self._chars - before[1])
        return node


# Keep only the resolvers a schedule wants: null, bool, plain ints and floats.
_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(tag: str) -> Any:
    """SafeLoader's constructor for a scalar tag, failing with a line (an explicit `!!bool maybe`
    raises KeyError, `!!int x` ValueError) and refusing numbers too long to convert cheaply."""
    base = yaml.SafeLoader.yaml_constructors[tag]
    name = _tag_name(tag)

    def construct(loader: _Loader, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise YamlProblem(_line(node), f"YAML: {name} is for a single value, not a list or mapping")
        if name in ("!!int", "!!float") and len(node.value) > MAX_NUMBER:
            raise YamlProblem(
                _line(node), f"a number of {len(node.value)} characters is too long (quote it if it is text)"
            )
        try:
            return base(loader, node)
        except (ValueError, KeyError, TypeError, OverflowError, IndexError):
            raise YamlProblem(_line(node), f"{quoted(node.value)} is not a valid {name}") from None

    return construct


def _construct_mapping(loader: _Loader, node: yaml.Node) -> LineDict:
    if not isinstance(node, yaml.MappingNode):
        raise YamlProblem(_line(node), "YAML: !!map is for a mapping")
    result = LineDict()
    result.line = _line(node)
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = _line(key_node)
        if not isinstance(key, str | int):
            raise YamlProblem(line, f"keys must be plain names, not {type(key).__name__}")
        if key in result:
            raise YamlProblem(line, f"duplicate key {quoted(key)} (first at line {result.key_lines[key]})")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.Node) -> LineList:
    if not isinstance(node, yaml.SequenceNode):
        raise YamlProblem(_line(node), "YAML: !!seq is for a list")
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = _line(node)
    result.item_lines = [_line(child) for child in node.value]
    return result


def _construct_other(loader: _Loader, node: yaml.Node) -> Any:
    raise YamlProblem(_line(node), f"YAML: the tag {quoted(_tag_name(node.tag))} is not allowed")


# Only the allowed tags have constructors (the composer has refused the others already).
_Loader.yaml_constructors = {tag: _scalar(tag) for tag in _ALLOWED_TAGS - {_CORE + "seq", _CORE + "map"}}
_Loader.add_constructor(None, _construct_other)
_Loader.add_constructor(_CORE + "map", _construct_mapping)
_Loader.add_constructor(_CORE + "seq", _construct_sequence)


def load_yaml(text: str) -> Any:
    """Parse YAML text; raises YamlProblem with a line for every problem."""
    try:
        loader = _Loader(text)  # checks the characters first
        try:
            node = loader.get_single_node()
            return None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, max(error.position, 0)) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        raise YamlProblem(line, f"YAML: the character #x{code:04x} is not allowed") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"YAML syntax: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise YamlProblem(1, f"YAML: {error}") from None
    except RecursionError:  # MAX_DEPTH keeps well below the limit; this is the backstop
        raise YamlProblem(1, "YAML: nested too deeply") from None


def read_source(path: str | Path) -> str:
    """The text of a schedule file: a regular file of at most MAX_BYTES, in UTF-8.

    A FIFO or device is refused before it is read (one would block or never end), and
    at most MAX_BYTES + 1 bytes are read even if the file grows meanwhile.
    """
    try:
        _refuse_special(os.stat(path).st_mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(path, flags)  # non-blocking: it may have become a FIFO since
        try:
            _refuse_special(os.fstat(descriptor).st_mode)
            data = _read_at_most(descriptor, MAX_BYTES + 1)
        finally:
            os.close(descriptor)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        raise YamlProblem(1, f"cannot read the file: {getattr(error, 'strerror', None) or error}") from None
    if len(data) > MAX_BYTES:
        raise YamlProblem(1, f"the file is larger than {MAX_BYTES >> 20} MiB; a schedule is a few KB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise YamlProblem(line, f"the file is not UTF-8 text (byte 0x{data[error.start]:02x})") from None


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_special(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise YamlProblem(1, f"cannot read the file: it is {kind}, not a schedule file")


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def line_of(data: Any, path: tuple[Any, ...]) -> int:
    """The line of the deepest value along `path` that the source knows about.

    Path elements the data does not have (a union tag in a validation error, a key
    that is missing) are skipped, so a missing key points at its parent mapping.
    """
    line = getattr(data, "line", 1)
    node = data
    for step in path:
        if isinstance(node, LineDict) and step in node:
            line = node.key_lines[step]
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
    return line
