"""A Bluesky Jetstream (legacy v1) peer on loopback, and builders for its events.

The peer keeps an ordered log of events. A client connecting with `cursor` gets the stored
events with `time_us >= cursor` first, then the live tail, with nothing lost or doubled at the
cutover (the replay is queued in the same step that registers the client).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from .loopback import LoopbackPeer

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_HASHTAG = re.compile(r"(?:^|(?<=\s))[#\uff03]([^\s#\uff03]+)")  # also the full-width sign
_seq = itertools.count(1_000_000_000)


# ---------------------------------------------------------------- builders


def tid(time_us: int, clock_id: int = 0) -> str:
    """An atproto TID: 53-bit µs timestamp then 10-bit clock id, base32-sortable, 13 chars."""
    if not 0 <= time_us < 1 << 53 or not 0 <= clock_id < 1 << 10:
        raise ValueError("time_us must fit 53 bits and clock_id 10 bits")
    n = (time_us << 10) | clock_id
    return "".join(TID_ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(13)))


def _iso(time_us: int) -> str:
    moment = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _cid(data: object) -> str:
    """A CIDv1 (dag-cbor, sha2-256) in base32, shaped like a real record CID."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    return "b" + base64.b32encode(b"\x01\x71\x12\x20" + digest).decode().lower().rstrip("=")


def hashtags(text: str) -> list[tuple[int, int, str]]:
    """(byteStart, byteEnd, tag) for each #hashtag in text; offsets in UTF-8 bytes, span includes '#'."""
    found = []
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        while tag and unicodedata.category(tag[-1]).startswith("P"):
            tag = tag[:-1]
        if not tag or tag.isdigit():
            continue
        start = len(text[: match.start()].encode())
        found.append((start, start + len((text[match.start()] + tag).encode()), tag))
    return found


def _commit(did: str, time_us: int, commit: dict[str, Any]) -> dict[str, Any]:
    return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}


def post(
    did: str,
    rkey: str,
    text: str,
    *,
    time_us: int,
    tags: Iterable[str] | None = None,
    facet_tags: Iterable[str] | None = None,
    created_at: str | None = None,
    langs: Iterable[str] = ("en",),
) -> dict[str, Any]:
    """A commit/create of an app.bsky.feed.post, with tag facets for the #hashtags in text.

    facet_tags=None makes a facet for every hashtag; otherwise only for those listed (any case).
    tags become record.tags (extra hashtags not in the text).
    """
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": created_at or _iso(time_us - 200_000),
        "langs": list(langs),
        "text": text,
    }
    wanted = None if facet_tags is None else {tag.casefold() for tag in facet_tags}
    facets = [
        {
            "index": {"byteStart": start, "byteEnd": end},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
        }
        for start, end, tag in hashtags(text)
        if wanted is None or tag.casefold() in wanted
    ]
    if facets:
        record["facets"] = facets
    if tags:
        record["tags"] = list(tags)
    commit = {"rev": tid(time_us, 1), "operation": "create", "collection": "app.bsky.feed.post"}
    commit |= {"rkey": rkey, "record": record, "cid": _cid(record)}
    return _commit(did, time_us, commit)


def delete(did: str, rkey: str, *, time_us: int, collection: str = "app.bsky.feed.post") -> dict[str, Any]:
    """A commit/delete (no record, no cid)."""
    commit = {"rev": tid(time_us, 1), "operation": "delete", "collection": collection, "rkey": rkey}
    return _commit(did, time_us, commit)


def like(did: str, rkey: str, *, time_us: int, subject: str | None = None) -> dict[str, Any]:
    """A commit/create of an app.bsky.feed.like; rkey is the like's own key."""
    uri = subject or f"at://{did}/app.bsky.feed.post/{tid(time_us - 60_000_000)}"
    record = {
        "$type": "app.bsky.feed.like",
        "createdAt": _iso(time_us - 200_000),
        "subject": {"cid": _cid(uri), "uri": uri},
    }
    commit = {"rev": tid(time_us, 1), "operation": "create", "collection": "app.bsky.feed.like"}
    commit |= {"rkey": rkey, "record": record, "cid": _cid(record)}
    return _commit(did, time_us, commit)


def identity(did: str, *, time_us: int, handle: str | None = None) -> dict[str, Any]:
    """An identity event (handle change)."""
    body = {"did": did, "handle": handle or f"{did.rsplit(':', 1)[-1][:8]}.bsky.social"}
    body |= {"seq": next(_seq), "time": _iso(time_us)}
    return {"did": did, "time_us": time_us, "kind": "identity", "identity": body}


def account(did: str, *, time_us: int, active: bool = True) -> dict[str, Any]:
    """An account event (activation or deactivation)."""
    body = {"active": active, "did": did, "seq": next(_seq), "time": _iso(time_us)}
    return {"did": did, "time_us": time_us, "kind": "account", "account": body}


# ---------------------------------------------------------------- the peer


@dataclass
class _Entry:
    time_us: int
    data: bytes
    kind: str | None = None  # None: a raw payload, sent to everyone
    did: str | None = None
    collection: str | None = None


@dataclass(eq=False)
class _Client:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    collections: list[str]
    dids: set[str]
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    def wants(self, entry: _Entry) -> bool:
        if entry.kind is None:
            return True
        if self.dids and entry.did not in self.dids:
            return False
        if entry.kind != "commit" or not self.collections:
            return True
        name = entry.collection or ""
        return any(
            name == want or (want.endswith(".*") and name.startswith(want[:-1])) for want in self.collections
        )


class JetstreamPeer(LoopbackPeer):
    """Serves `GET /subscribe` like a v1 Jetstream host, from a log the test fills."""

    scheme, path = "ws", "/subscribe"

    def __init__(self) -> None:
        super().__init__()
        self._log: list[_Entry] = []
        self._clients: set[_Client] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/subscribe", self._subscribe)

    async def close_clients(self) -> None:
        await asyncio.gather(*(c.ws.close(code=1001, message=b"peer closing") for c in list(self._clients)))

    def publish(self, event: dict[str, Any] | str | bytes) -> None:
        """Append to the log and send to every connected client whose filter matches.

        A str/bytes goes out raw as a text frame to every client; in the log it takes the
        time_us of the event before it, so a replay that includes that event includes it too.
        """
        if isinstance(event, dict):
            commit = event.get("commit") or {}
            data = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
            entry = _Entry(
                event["time_us"], data, event.get("kind"), event.get("did"), commit.get("collection")
            )
        else:
            data = event.encode() if isinstance(event, str) else event
            entry = _Entry(self._log[-1].time_us if self._log else 0, data)
        self._log.append(entry)
        for client in self._clients:
            if client.wants(entry):
                client.queue.put_nowait(entry.data)

    def drop(self) -> None:
        """Abort every client connection: no close frame, like a network drop."""
        for client in self._clients:
            if client.transport is not None:
                client.transport.abort()

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        query = {key: request.query.getall(key) for key in dict.fromkeys(request.query)}
        cursor = None
        if request.query.get("cursor"):
            try:
                cursor = int(request.query["cursor"])
            except ValueError:
                return web.json_response({"error": "invalid cursor"}, status=400)
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        client = _Client(
            ws, request.transport, query.get("wantedCollections", []), set(query.get("wantedDids", []))
        )
        if cursor is not None:
            for entry in self._log:
                if entry.time_us >= cursor and client.wants(entry):
                    client.queue.put_nowait(entry.data)
        self._clients.add(client)
        await self.accepted(query)
        try:
            await self.serve(ws, self._pump(client), lambda text: self._options_update(client, text))
        finally:
            self._clients.discard(client)
        return ws

    @staticmethod
    def _options_update(client: _Client, text: str) -> None:
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            message = json.loads(text)
            if message.get("type") == "options_update":
                payload = message.get("payload") or {}
                client.collections = list(payload.get("wantedCollections") or [])
                client.dids = set(payload.get("wantedDids") or [])

    @staticmethod
    async def _pump(client: _Client) -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                data = await client.queue.get()
                await client.ws.send_frame(data, WSMsgType.TEXT)
