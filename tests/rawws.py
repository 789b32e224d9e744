"""A websocket client at the socket level: it writes frames and reads only when told to,
so a test can be the client that floods and never reads."""

from __future__ import annotations

import base64
import os
import socket
import struct


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One client-to-server frame (clients must mask, RFC 6455 section 5.3)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return header + mask + masked


class RawWebSocket:
    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        # A small receive buffer: what the server sends piles up on its side.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        self.sock.sendall(masked_frame(text.encode()))

    def send_many(self, texts: list[str]) -> int:
        """Send frames until done or the server stops taking them; returns how many went."""
        sent = 0
        try:
            for text in texts:
                self.sock.sendall(masked_frame(text.encode()))
                sent += 1
        except OSError:
            pass
        return sent

    def read_until(self, marker: bytes, timeout_s: float = 5) -> bytes:
        """Read until `marker` has arrived; fails if the server closes first."""
        self.sock.settimeout(timeout_s)
        received = b""
        while marker not in received:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed before {marker!r} arrived"
            received += chunk
        return received

    def closed_by_server(self, timeout_s: float = 10) -> bool:
        """Read (and discard) until the server closes the connection."""
        self.sock.settimeout(timeout_s)
        try:
            while self.sock.recv(65536):
                pass
        except TimeoutError:
            return False
        except OSError:
            return True  # reset
        return True

    def close(self) -> None:
        self.sock.close()
