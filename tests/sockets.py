"""A python-socketio client that records what each namespace receives, topic by topic."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import socketio

from eventrunner.core import mergepatch


class Recorder:
    """Connects to namespaces and keeps each topic's document there, patch by patch, as the
    protocol says: a patch applies to its `base`; a gap asks for that topic's snapshot."""

    def __init__(self, topics: list[str] | str | None = None) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.wanted = topics
        self.topic_docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.patches: dict[str, list[dict[str, Any]]] = {}
        self.snapshots: Counter[tuple[str, str]] = Counter()
        self.resyncs: Counter[tuple[str, str]] = Counter()
        self._changed = asyncio.Condition()

    @property
    def docs(self) -> dict[str, dict[str, Any]]:
        """The show document per namespace."""
        return {ns: topics["show"] for ns, topics in self.topic_docs.items() if "show" in topics}

    async def connect(
        self, url: str, namespaces: list[str], expect: tuple[str, ...] = ("show",), **kwargs: Any
    ) -> None:
        names = ["show", "pulse", "tally"] if self.wanted is None or self.wanted == "*" else self.wanted
        for namespace in namespaces:
            self.patches[namespace] = []
            self.topic_docs[namespace] = {}
            for topic in names:
                self.client.on(topic, self._on_snapshot(namespace, topic), namespace=namespace)
            self.client.on("patch", self._on_patch(namespace), namespace=namespace)
        if self.wanted is not None:
            auth = kwargs.pop("auth", {}) or {}
            kwargs["auth"] = {**auth, "topics": self.wanted}
        await self.client.connect(url, namespaces=namespaces, transports=["websocket"], **kwargs)
        for namespace in namespaces:
            for topic in expect:
                await self.wait_for(namespace, lambda doc: True, topic)

    def _on_snapshot(self, namespace: str, topic: str):
        async def handler(doc: dict[str, Any]) -> None:
            async with self._changed:
                doc.pop("server_time")
                self.snapshots[namespace, topic] += 1
                self.topic_docs[namespace][topic] = doc
                self._changed.notify_all()

        return handler

    def _on_patch(self, namespace: str):
        async def handler(message: dict[str, Any]) -> None:
            async with self._changed:
                self.patches[namespace].append(message)
                topic = message.get("topic", "show")
                doc = self.topic_docs[namespace][topic]
                if message["version"] <= doc["version"]:
                    return
                if message.get("base", message["version"] - 1) != doc["version"]:
                    self.resyncs[namespace, topic] += 1
                    asyncio.get_running_loop().create_task(self._resync(namespace, topic))
                    return
                self.topic_docs[namespace][topic] = {
                    **mergepatch.apply(doc, message["patch"]),
                    "version": message["version"],
                }
                self._changed.notify_all()

        return handler

    async def _resync(self, namespace: str, topic: str) -> None:
        full = await self.call("snapshot", {"topic": topic}, namespace)
        async with self._changed:
            full.pop("server_time")
            if full["version"] >= self.topic_docs[namespace][topic]["version"]:
                self.topic_docs[namespace][topic] = full
            self._changed.notify_all()

    async def wait_for(
        self, namespace: str, predicate, topic: str = "show", timeout_s: float = 5
    ) -> dict[str, Any]:
        def ready() -> bool:
            docs = self.topic_docs.get(namespace, {})
            return topic in docs and predicate(docs[topic])

        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(ready)
            return self.topic_docs[namespace][topic]

    async def call(self, event: str, data: Any, namespace: str) -> Any:
        return await self.client.call(event, data, namespace=namespace, timeout=5)

    async def close(self) -> None:
        await self.client.disconnect()
