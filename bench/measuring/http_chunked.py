"""HTTP/1.1's chunked transfer coding (RFC 9112 §7.1), decoded sans-I/O: bytes in, body out.

An event stream has no length: the server sends each event as a chunk (``size in hex CRLF data
CRLF``) and ends the body with a chunk of size 0. The bench's two raw SSE readers (the Locust
user's ``wire_clients.py`` and the independent ``receiver.py``) feed whatever bytes a read
brought and get back the body bytes those completed.
"""

from __future__ import annotations


class ChunkedDecoder:
    """Feed it wire bytes; it returns the body bytes they complete. ``ended`` after the last
    chunk (size 0). A malformed size or a chunk not ended by CRLF is a ValueError."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.left = -1  # body bytes left in the current chunk (-1: a size line is next)
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        body = bytearray()
        while not self.ended:
            if self.left < 0:
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    break
                size_line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                try:
                    self.left = int(size_line.split(b";")[0].strip(), 16)  # §7.1.1: no ext.
                except ValueError:
                    raise ValueError(f"malformed chunk size: {size_line!r}") from None
                self.ended = self.left == 0
            elif len(self.buffer) >= self.left + 2:
                if self.buffer[self.left : self.left + 2] != b"\r\n":
                    raise ValueError("a chunk did not end with CRLF")
                body += self.buffer[: self.left]
                del self.buffer[: self.left + 2]
                self.left = -1
            else:
                break
        return bytes(body)
