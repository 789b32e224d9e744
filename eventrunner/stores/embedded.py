"""The embedded store, the default: everything in the data dir, for one process."""

from __future__ import annotations

from pathlib import Path

from eventrunner.stores.file import FileStore
from eventrunner.stores.sqlite import SqliteCollections


class EmbeddedStore:
    def __init__(self, data_dir: Path) -> None:
        self.show = FileStore(data_dir)  # takes the data dir's lock first
        try:
            self.collections = SqliteCollections(data_dir)
        except BaseException:
            self.show.close()
            raise

    async def close(self) -> None:
        await self.collections.close()
        self.show.close()
