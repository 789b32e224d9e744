"""A Mastodon peer on loopback: the streaming websocket (hashtag streams) and the tag timeline.

Frames are `{"stream":["hashtag","<tag as requested>"],"event":...,"payload":...}`; an update's
payload is the Status as a JSON string (decode it twice), a delete's payload the bare id.
As on real Mastodon, a status carrying two subscribed tags reaches the socket once per tag.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from .loopback import LoopbackPeer

HOST = "mastodon.example"


def _iso(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def status(
    id: str | int,
    text_html: str,
    *,
    tags: list[str],
    created_at: datetime | str,
    uri: str | None = None,
    reblog: dict[str, Any] | None = None,
    account: str = "ana",
    visibility: str = "public",
) -> dict[str, Any]:
    """A Status entity. account is an acct ("ana" or "bob@other.example"); tag names are kept as given."""
    username, _, domain = account.partition("@")
    host = domain or HOST
    return {
        "id": str(id),
        "created_at": _iso(created_at),
        "visibility": visibility,
        "sensitive": False,
        "spoiler_text": "",
        "uri": uri or f"https://{host}/users/{username}/statuses/{id}",
        "url": f"https://{host}/@{username}/{id}",
        "content": text_html,
        "reblog": reblog,
        "account": {
            "id": str(zlib.crc32(account.encode())),
            "username": username,
            "acct": account,
            "display_name": username.capitalize(),
        },
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": name, "url": f"https://{HOST}/tags/{name.lower()}"} for name in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(eq=False)
class _Socket:
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    subscriptions: dict[str, str] = field(default_factory=dict)  # lowercased tag -> tag as requested
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def subscribe(self, stream: str | None, tag: str | None, unsubscribe: bool = False) -> None:
        if stream != "hashtag":
            self.queue.put_nowait(_compact({"error": "Unknown stream type", "status": 400}))
        elif not tag:
            self.queue.put_nowait(_compact({"error": "No tag for stream provided", "status": 400}))
        elif unsubscribe:
            self.subscriptions.pop(tag.lower(), None)
        else:
            self.subscriptions.setdefault(tag.lower(), tag)


class MastodonPeer(LoopbackPeer):
    """Statuses the test publishes, served by streaming websocket and by GET /api/v1/timelines/tag."""

    def __init__(self, token: str = "masto-user-token") -> None:
        super().__init__()
        self.token = token
        self.require_token_for_timeline = False
        self.statuses: dict[str, dict[str, Any]] = {}
        self.timeline_requests: list[dict[str, list[str]]] = []
        self._sockets: set[_Socket] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/streaming/health", self._health)
        app.router.add_get("/api/v1/streaming", self._stream)
        app.router.add_get("/api/v1/streaming/", self._stream)
        app.router.add_get("/api/v1/timelines/tag/{hashtag}", self._timeline)

    async def close_clients(self) -> None:
        await asyncio.gather(*(s.ws.close(code=1001, message=b"peer closing") for s in list(self._sockets)))

    # ------------------------------------------------------------ what tests call

    def publish(self, status: dict[str, Any]) -> None:
        """Add to the timeline and send an `update` to the sockets subscribed to one of its tags."""
        self.statuses[status["id"]] = status
        self._send(status, "update", _compact(status))

    def edit(self, status: dict[str, Any]) -> None:
        """Replace a status and send `status.update`."""
        self.statuses[status["id"]] = status
        self._send(status, "status.update", _compact(status))

    def delete(self, status_id: str) -> None:
        """Remove from the timeline and send `delete` (payload: the bare id)."""
        self._send(self.statuses.pop(status_id), "delete", status_id)

    def send_raw(self, text: str) -> None:
        """Send text as is to every socket."""
        for sock in self._sockets:
            sock.queue.put_nowait(text)

    def drop(self) -> None:
        """Abort every socket: no close frame, like a network drop."""
        for sock in self._sockets:
            if sock.transport is not None:
                sock.transport.abort()

    async def wait_connected(self, n: int) -> None:
        """Wait (up to 10 s) until the n-th socket since start has been accepted."""
        async with asyncio.timeout(10), self._accepted:
            await self._accepted.wait_for(lambda: len(self.connections) >= n)

    def _send(self, status: dict[str, Any], event: str, payload: str) -> None:
        names = [tag["name"].lower() for tag in status.get("tags", [])]
        for sock in self._sockets:
            for name in names:
                if name in sock.subscriptions:
                    frame = {
                        "stream": ["hashtag", sock.subscriptions[name]],
                        "event": event,
                        "payload": payload,
                    }
                    sock.queue.put_nowait(_compact(frame))

    # ------------------------------------------------------------ handlers

    @staticmethod
    async def _health(_: web.Request) -> web.Response:
        return web.Response(text="OK")

    @staticmethod
    def _bearer(request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        candidates = [
            ("header", self._bearer(request)),
            ("query", request.query.get("access_token")),
            ("protocol", request.headers.get("Sec-WebSocket-Protocol", "").strip() or None),
        ]
        how, token = next(((how, token) for how, token in candidates if token), ("none", None))
        if token is None:
            return web.json_response({"error": "Missing access token"}, status=401)
        if token != self.token:
            return web.json_response({"error": "Invalid access token"}, status=401)
        ws = web.WebSocketResponse(timeout=2.0, protocols=(token,) if how == "protocol" else ())
        await ws.prepare(request)
        sock = _Socket(ws, request.transport)
        if "stream" in request.query:
            sock.subscribe(request.query["stream"], request.query.get("tag"))
        self._sockets.add(sock)
        query = {key: request.query.getall(key) for key in dict.fromkeys(request.query)}
        await self.accepted({"query": query, "auth": how})  # how the token came
        try:
            await self.serve(ws, self._pump(sock), lambda text: self._on_message(sock, text))
        finally:
            self._sockets.discard(sock)
        return ws

    @staticmethod
    def _on_message(sock: _Socket, text: str) -> None:
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(text)
            if message.get("type") in ("subscribe", "unsubscribe"):
                sock.subscribe(message.get("stream"), message.get("tag"), message["type"] == "unsubscribe")

    @staticmethod
    async def _pump(sock: _Socket) -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                await sock.ws.send_str(await sock.queue.get())

    async def _timeline(self, request: web.Request) -> web.Response:
        query = request.query
        self.timeline_requests.append({key: query.getall(key) for key in dict.fromkeys(query)})
        if self.require_token_for_timeline and self._bearer(request) != self.token:
            return web.json_response({"error": "This method requires an authenticated user"}, status=401)
        try:
            limit = min(max(int(query.get("limit") or 20), 1), 40)
            max_id, since_id, min_id = (
                int(query[k]) if query.get(k) else None for k in ("max_id", "since_id", "min_id")
            )
        except ValueError:
            return web.json_response({"error": "Invalid pagination parameter"}, status=400)
        tag = request.match_info["hashtag"].lower()
        ids = sorted(
            (
                int(s["id"])
                for s in self.statuses.values()
                if tag in {t["name"].lower() for t in s.get("tags", [])}
            ),
            reverse=True,
        )
        ids = [i for i in ids if max_id is None or i < max_id]
        if min_id is not None:  # the oldest page just above min_id, shown newest first
            page = [i for i in ids if i > min_id][-limit:]
        else:  # the newest page (above since_id, if given)
            page = [i for i in ids if since_id is None or i > since_id][:limit]
        statuses = [self.statuses[str(i)] for i in page]
        response = web.json_response(statuses, dumps=_compact)
        if statuses:
            keep = {k: query[k] for k in ("limit", "local", "only_media") if k in query}
            next_url = request.url.with_query({**keep, "max_id": statuses[-1]["id"]})
            prev_url = request.url.with_query({**keep, "min_id": statuses[0]["id"]})
            response.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return response
