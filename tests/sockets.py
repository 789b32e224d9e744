"""A python-socketio client that records what each namespace receives."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from eventrunner.core import mergepatch


class Recorder:
    """Connects to namespaces and keeps the document each one holds, patch by patch."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.docs: dict[str, dict[str, Any]] = {}
        self.patches: dict[str, list[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()

    async def connect(self, url: str, namespaces: list[str], **kwargs: Any) -> None:
        for namespace in namespaces:
            self.patches[namespace] = []
            self.client.on("show", self._on_show(namespace), namespace=namespace)
            self.client.on("patch", self._on_patch(namespace), namespace=namespace)
        await self.client.connect(url, namespaces=namespaces, transports=["websocket"], **kwargs)
        for namespace in namespaces:
            await self.wait_for(namespace, lambda doc: True)

    def _on_show(self, namespace: str):
        async def handler(doc: dict[str, Any]) -> None:
            async with self._changed:
                doc.pop("server_time")
                self.docs[namespace] = doc
                self._changed.notify_all()

        return handler

    def _on_patch(self, namespace: str):
        async def handler(message: dict[str, Any]) -> None:
            async with self._changed:
                self.patches[namespace].append(message)
                doc = self.docs[namespace]
                assert message["version"] == doc["version"] + 1, "a patch skipped a version"
                self.docs[namespace] = mergepatch.apply(doc, message["patch"])
                self._changed.notify_all()

        return handler

    async def wait_for(self, namespace: str, predicate) -> dict[str, Any]:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: namespace in self.docs and predicate(self.docs[namespace]))
            return self.docs[namespace]

    async def call(self, event: str, data: Any, namespace: str) -> Any:
        return await self.client.call(event, data, namespace=namespace, timeout=5)

    async def close(self) -> None:
        await self.client.disconnect()
