"""Settings shared by the four servers (the CLI fills them in).

The facts about each technique (name, port, path, the long-poll hold) live in
``pushlab.techniques``; this module holds only what a server operator may change.
"""

from __future__ import annotations

from dataclasses import dataclass

from pushlab.servers.broadcast import DEFAULT_HIGH_WATER_BYTES
from pushlab.servers.feed import DEFAULT_HISTORY_SIZE
from pushlab.techniques import LONGPOLL_HOLD_S, LONGPOLL_MAX_HOLD_S, POLL_INTERVAL_S

# Named defaults of the hardening options (issue 16); the CLI and /stats list them.
HEADER_TIMEOUT_S = 10.0  # a request's line and headers must arrive within this
BODY_TIMEOUT_S = 10.0  # and its body within this after the headers
KEEPALIVE_TIMEOUT_S = 75.0  # an idle kept-alive connection is closed after this
PUBLISH_LIMIT_PER_S = 20.0  # per client address: a classroom chat never comes near it
PUBLISH_BURST = 50

ARRIVALS = ("periodic", "poisson")

# The live lesson (`pushlab serve`, `pushlab demo`): messages arrive at random (a Poisson
# process), at half the polling clients' frequency. Then most polls come back empty, and a
# polled message waits anywhere from 0 to a whole interval: with rate λ and interval T a poll
# finds nothing with probability e^(−λT), here e^(−0.5) ≈ 61 %. Periodic arrivals, one every
# 1/λ seconds exactly, stay an option (--arrivals periodic); the bench chooses its own.
LESSON_PUBLISH_RATE = 0.5 / POLL_INTERVAL_S
LESSON_ARRIVALS = "poisson"
MIN_BODY_BYTES = 64 * 1024


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int | None = None
    publish_rate: float = 0.0
    arrivals: str = "periodic"
    history_size: int = DEFAULT_HISTORY_SIZE
    max_text_bytes: int = 4096
    hold_s: float = LONGPOLL_HOLD_S
    max_hold_s: float = LONGPOLL_MAX_HOLD_S
    # Origins allowed to open a WebSocket: exact origins ("http://host:port"), "*" for any,
    # or "same-host" (the Origin's hostname equals the Host header's, any port).
    # Requests with no Origin header (non-browser clients) are always allowed.
    allowed_origins: tuple[str, ...] = ()
    ws_compress: bool = False
    ws_heartbeat_s: float = 20.0
    sse_keepalive_s: float = 15.0
    sse_retry_ms: int = 2000
    max_publish_rate: float = 1000.0
    # Scale-out (issue 13): "memory" or redis://HOST:PORT/DB (servers/feeds.py), and how many
    # processes serve the port (servers/workers.py).
    feed: str = "memory"
    workers: int = 1
    # --- hardening (issue 16): timeouts, limits, the teacher key; see servers/limits.py ---
    header_timeout_s: float = HEADER_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    keepalive_timeout_s: float = KEEPALIVE_TIMEOUT_S
    max_connections: int | None = None  # None: below this process's file-descriptor limit
    publish_limit_per_s: float = PUBLISH_LIMIT_PER_S
    publish_burst: int = PUBLISH_BURST
    allowed_hosts: tuple[str, ...] = ()  # Host names accepted besides the bound addresses
    # Connections one client address may hold; None: a quarter of the ceiling when bound beyond
    # loopback, no share on loopback (a bench's thousands of clients share 127.0.0.1).
    max_connections_per_address: int | None = None
    trusted_proxies: tuple[str, ...] = ()  # peers whose PROXY protocol line names the client
    teacher_key: str | None = None  # set when the server binds beyond loopback
    # Fan-out (issue 15): a push subscriber whose write buffer passes this leaves the broadcast
    # loop and catches up from the history in its own task.
    push_high_water_bytes: int = DEFAULT_HIGH_WATER_BYTES

    @property
    def max_message_bytes(self) -> int:
        """The largest chat message on the wire (a JSON body or a WebSocket frame): room for a
        text of ``max_text_bytes`` even if every character is JSON-escaped (``\\u00e9`` is six)."""
        return self.max_text_bytes * 6 + 1024

    @property
    def max_body_bytes(self) -> int:
        """aiohttp's ``client_max_size``: a chat message, and never less than 64 KiB."""
        return max(MIN_BODY_BYTES, self.max_message_bytes)
