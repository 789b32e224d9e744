"""YAML loading that remembers where every value came from.

Schedule errors must point at a line (`FILE:LINE: message`), so the loader builds
dicts and lists that carry the line of each key and item. YAML 1.1 quirks that bite
schedule authors are switched off: `11:30` stays the string "11:30" (not the base-60
number 690) and dates stay strings, so the schedule module parses them itself.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


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


class _Loader(yaml.SafeLoader):
    pass


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


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int):
            raise YamlProblem(line, f"keys must be plain names, not {type(key).__name__}")
        if key in result:
            raise YamlProblem(line, f"duplicate key '{key}' (first at line {result.key_lines[key]})")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str) -> Any:
    """Parse YAML text; raises YamlProblem with a line for syntax errors."""
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"YAML syntax: {error.problem or error}") from error
    except yaml.YAMLError as error:
        raise YamlProblem(1, f"YAML: {error}") from error
    except RecursionError:
        raise YamlProblem(1, "YAML: nested too deeply") from None


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
