"""Keep the C allocator out of every socket read: raise glibc's mmap threshold at start.

asyncio reads a socket with ``recv(256 KiB)`` and then shrinks the bytes object to what
arrived. glibc's ``malloc`` serves a block that large with ``mmap`` until a block above its
*dynamic mmap threshold* (128 KiB at first) has been freed once; from then on the threshold
sits above that size and such blocks come from the heap. Until then every read, even of a
60-byte poll, costs three system calls: ``mmap``, ``mremap`` (the shrink) and ``munmap``.
Whether a process has already freed such a block depends on what it happened to do at start
(the peers' imports do it; pushlab's polling server did not): the saturation sweep showed it as
system time per empty answer that the bare aiohttp poll handler did not pay, and
``strace -c`` showed the three calls once per ``recvfrom``.

:func:`raise_mmap_threshold` allocates and frees one block larger than asyncio's reads, once,
before a server listens (``runner.start``), so every server, pushlab's and the peers', runs in
the same allocator state and a comparison between them is a comparison of their code. On
another C library it is one harmless allocation.
"""

from __future__ import annotations

ASYNCIO_READ_BYTES = 256 * 1024
"""How much asyncio's socket transport asks ``recv`` for (``max_size`` of its transport)."""

PRIMING_BYTES = 4 * ASYNCIO_READ_BYTES
"""The block freed once: the threshold rises to its size, above every read."""


def raise_mmap_threshold() -> None:
    """Allocate and free one ``PRIMING_BYTES`` block (glibc maps it, and its free raises the
    threshold past it)."""
    block = bytearray(PRIMING_BYTES)  # above pymalloc's small-object limit: straight to malloc
    del block
