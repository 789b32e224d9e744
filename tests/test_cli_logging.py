"""The server's log keeps real problems and drops clients that simply hung up."""

from __future__ import annotations

import logging
import sys

from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from eventrunner.access.lognoise import ClientNoiseFilter


def record_with(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        return logging.LogRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "Error handling request", None, sys.exc_info()
        )


def test_hung_up_clients_are_not_logged_but_real_errors_are():
    gone = ClientNoiseFilter()
    assert gone.filter(record_with(ConnectionResetError("Cannot write to closing transport"))) is False
    assert gone.filter(record_with(ValueError("a real bug"))) is True
    assert gone.filter(logging.LogRecord("aiohttp.server", logging.INFO, __file__, 1, "hello", None, None))


def test_bad_http_becomes_one_short_line_without_the_clients_bytes(caplog):
    noise = ClientNoiseFilter()
    with caplog.at_level(logging.WARNING, logger="eventrunner.clients"):
        for _ in range(50):
            assert noise.filter(record_with(LineTooLong(b"y" * 9000, 8190))) is False
        assert noise.filter(record_with(BadHttpMessage("Invalid character in chunk size: zz"))) is False
    lines = [r.getMessage() for r in caplog.records if r.name == "eventrunner.clients"]
    assert lines[0] == "bad HTTP from a client: LineTooLong 400"
    assert len(lines) == 10  # rate-limited: the rest are counted, not written
    assert not any("yyyy" in line or "zz" in line for line in lines)
    assert all(r.exc_info is None for r in caplog.records)
