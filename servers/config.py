"""Settings shared by the four servers (the CLI fills them in)."""

from __future__ import annotations

from dataclasses import dataclass

from pushlab.servers.feed import DEFAULT_HISTORY_SIZE

TECHNIQUES = ("polling", "longpoll", "websocket", "sse")
DEFAULT_PORTS = {"demo": 8000, "polling": 8001, "longpoll": 8002, "websocket": 8003, "sse": 8004}
ARRIVALS = ("periodic", "poisson")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int | None = None
    publish_rate: float = 0.0
    arrivals: str = "periodic"
    history_size: int = DEFAULT_HISTORY_SIZE
    max_text_bytes: int = 4096
    longpoll_timeout_default_s: float = 25.0
    longpoll_timeout_max_s: float = 60.0
    # Origins allowed to open a WebSocket: exact origins ("http://host:port"), "*" for any,
    # or "same-host" (the Origin's hostname equals the Host header's, any port).
    # Requests with no Origin header (non-browser clients) are always allowed.
    allowed_origins: tuple[str, ...] = ()
    ws_compress: bool = False
    ws_heartbeat_s: float = 20.0
    sse_keepalive_s: float = 15.0
    sse_retry_ms: int = 2000
    max_publish_rate: float = 1000.0
