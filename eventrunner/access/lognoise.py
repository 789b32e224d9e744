"""Keeping outsiders out of the log's volume: what a client's bad input makes the web
stack log with a traceback becomes one rate-limited line, and a client that simply hung
up is not logged at all. Real problems keep their tracebacks."""

from __future__ import annotations

import logging
import os

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
        if isinstance(error, PARSE_ERRORS) and _raised_parsing_socketio(error):
            # engine.io decodes websocket frames outside any handler of ours; a frame that
            # is not an Engine.IO packet ends that socket, which is the right answer.
            self.offenders.note("bad socket.io packet from a client: %s", type(error).__name__)
            return False
        return True


PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError)
_PROTOCOL_PACKAGES = (f"{os.sep}engineio{os.sep}", f"{os.sep}socketio{os.sep}")


def _raised_parsing_socketio(error: BaseException) -> bool:
    """Whether the error was raised inside python-engineio/-socketio (their packet
    decoding), not in our code or anywhere else."""
    trace = error.__traceback__
    if trace is None:
        return False
    while trace.tb_next is not None:
        trace = trace.tb_next
    return any(package in trace.tb_frame.f_code.co_filename for package in _PROTOCOL_PACKAGES)


def quiet_client_noise() -> None:
    noise = ClientNoiseFilter()
    # engine.io also logs a traceback of its own for frames it cannot take.
    for name in ("aiohttp.server", "engineio.server", "socketio.server"):
        logging.getLogger(name).addFilter(noise)
