"""Keeping outsiders out of the log's volume: what a client's bad input makes the web
stack log with a traceback becomes one rate-limited line, and a client that simply hung
up is not logged at all. Real problems keep their tracebacks."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

from eventrunner.access.offenders import OffenderLog

log = logging.getLogger("eventrunner.clients")


class ClientNoiseFilter(logging.Filter):
    """For aiohttp's server logger: filters the records a client's input causes."""

    def __init__(self) -> None:
        super().__init__()
        self.offenders = OffenderLog(log)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConnectionResetError):
            return False  # a client that hung up mid-request: ordinary in a reconnect storm
        if isinstance(error, HttpProcessingError):
            # Only the class and aiohttp's short reason: never the client's bytes.
            self.offenders.note("bad HTTP from a client: %s %s", type(error).__name__, error.code)
            return False
        return True


def quiet_client_noise() -> None:
    logging.getLogger("aiohttp.server").addFilter(ClientNoiseFilter())
