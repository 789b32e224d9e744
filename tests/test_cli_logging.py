"""The server's log keeps real problems and drops clients that simply hung up."""

from __future__ import annotations

import logging
import sys

from eventrunner.cli import _ClientGoneFilter


def record_with(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        return logging.LogRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "Error handling request", None, sys.exc_info()
        )


def test_hung_up_clients_are_not_logged_but_real_errors_are():
    gone = _ClientGoneFilter()
    assert gone.filter(record_with(ConnectionResetError("Cannot write to closing transport"))) is False
    assert gone.filter(record_with(ValueError("a real bug"))) is True
    assert gone.filter(logging.LogRecord("aiohttp.server", logging.INFO, __file__, 1, "hello", None, None))
