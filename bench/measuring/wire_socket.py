"""Reading a socket with the kernel's receive time: when the bytes reached this machine, apart
from when user code got round to them.

A load generator runs thousands of clients on one core. When a message arrives, the client
that handles it may wait its turn behind many others; the time it reads is then the message's
delivery time *plus the generator's own delay*. The kernel knows better: with
``SO_TIMESTAMPNS`` set on a socket (``socket(7)``), every ``recvmsg`` call returns, as
ancillary data, a ``struct timespec`` of when the kernel received the bytes it hands over. On
TCP that is the time of the last segment the read consumed, so a message completed by a read
is stamped no earlier than its last byte arrived.

So the bench splits each delivery in two:

- *wire latency*: kernel receive time − the server's publish time (the technique's own cost);
- *generator delay*: the time user code handled it − the kernel receive time (the bench's).

The first reads after a process first asks for timestamps may come without one (the kernel
switches timestamping on with a short delay): such a read gives NaN, never a guess. Ask at
connect, long before the window.
"""

from __future__ import annotations

import math
import socket
import ssl
import struct

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux's option number; Python names it from 3.x on some builds only."""

TIMESPEC = struct.Struct("@qq")
"""``struct timespec`` on 64-bit Linux: seconds and nanoseconds, two native int64."""

READ_BYTES = 65536
ANCILLARY_BYTES = socket.CMSG_SPACE(TIMESPEC.size)


def enable_receive_timestamps(sock: socket.socket) -> None:
    """Ask the kernel to stamp every read of ``sock`` with its receive time."""
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def kernel_time_s(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The receive time (epoch s) in ``recvmsg``'s ancillary data, or NaN if there is none."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(data)
            return seconds + nanoseconds * 1e-9
    return math.nan


def read_stamped(sock: socket.socket, size: int = READ_BYTES) -> tuple[bytes, float]:
    """One read: the bytes (empty at end of stream) and when the kernel received them (NaN
    over TLS: the decrypted bytes of a record are not one read of the kernel's)."""
    if isinstance(sock, ssl.SSLSocket):
        return sock.recv(size), math.nan
    data, ancillary, _flags, _address = sock.recvmsg(size, ANCILLARY_BYTES)
    return data, kernel_time_s(ancillary)


class StampedStream:
    """A connected socket read through a buffer: every byte taken out comes with the kernel
    time of the read that brought in the last byte taken (``kernel_at``)."""

    def __init__(self, sock: socket.socket) -> None:
        enable_receive_timestamps(sock)
        self.sock = sock
        self.buffer = bytearray()
        self.kernel_at = math.nan  # of the newest read
        self.reads = 0
        self.stamped_reads = 0

    def fill(self) -> None:
        """Read once more into the buffer; ConnectionError at the end of the stream."""
        data, kernel_at = read_stamped(self.sock)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.reads += 1
        self.stamped_reads += not math.isnan(kernel_at)
        self.kernel_at = kernel_at
        self.buffer += data

    def take(self, size: int) -> bytes:
        """Remove and return the buffer's first ``size`` bytes."""
        taken = bytes(self.buffer[:size])
        del self.buffer[:size]
        return taken

    def read_until(self, marker: bytes) -> bytes:
        """Read until ``marker`` is buffered; take everything up to and including it."""
        while (end := self.buffer.find(marker)) < 0:
            self.fill()
        return self.take(end + len(marker))

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.fill()
        return self.take(size)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()
