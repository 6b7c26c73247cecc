"""Operating-system limits that every pushlab process with many sockets must raise."""

from __future__ import annotations

import resource

LISTEN_BACKLOG = 4096
"""Every listening socket's backlog (servers and emulator): a bench ramp or a class opening the
page at once sends thousands of connections in a moment; the usual default (100 in asyncio's
``start_server``) makes the rest wait a second for a SYN retransmission."""


def raise_open_files_limit() -> int:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit; return the new soft limit.

    Every client is a socket, so a server or a load generator with thousands of clients needs
    thousands of file descriptors; the usual soft limit is 1,024. The ``locust`` command raises
    its own; a server or a Locust run through the library does not, so each process calls this.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft
