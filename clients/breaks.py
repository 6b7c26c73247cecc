"""What a break is: the ways a connection ends that a client may mend by reconnecting.

A connection that ends without the server saying goodbye (no close frame, no end of the
conversation) can be resumed from the cursor (``clients.reconnect``); a wrong answer or a
refused upgrade cannot. The talkers raise these; the reconnect loop catches them.
"""

from __future__ import annotations

import aiohttp

from pushlab.clients.target import connection_failure
from pushlab.protocol import Gap


class ConnectionBroken(Exception):
    """The connection ended without the server saying goodbye (no close frame, no end of
    the conversation): the client may come back and resume."""


class FeedRestarted(ConnectionBroken):
    """The server answered that our cursor is ahead of its newest message: a new feed."""


class GapClosed(Exception):
    """The WebSocket server closed us with ``GAP_CLOSE_CODE``: we fell past its history.
    Resume at once after the gap."""

    def __init__(self, gap: Gap) -> None:
        super().__init__(gap.describe())
        self.gap = gap


BREAKS = (ConnectionBroken, aiohttp.ClientError, ConnectionError, TimeoutError)
"""What a reconnect can mend. Anything else (a wrong answer, a refused upgrade) cannot."""


def break_reason(error: BaseException, base: str) -> str:
    """One line for what broke, never a traceback and never a close code nobody sent."""
    if isinstance(error, ConnectionBroken):
        return str(error)
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without an answer"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the connection ended in the middle of the response"
    if isinstance(error, aiohttp.ClientConnectorError):
        return str(connection_failure(base, error))
    if isinstance(error, TimeoutError):
        return "no answer (timed out)"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    return f"{error.__class__.__name__}: {error}".rstrip(": ")
