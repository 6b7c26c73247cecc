"""How nginx is configured in front of pushlab: three named profiles, and the config they make.

Between a real server and a real browser sit a reverse proxy, TLS and usually HTTP/2; the
techniques differ most there. Each profile is a documented set of directives — the report
and the lesson quote them — written into one ``nginx.conf`` by :func:`nginx_conf`:

- ``nginx-default``: nginx as installed. The upstream request is HTTP/1.0 (no keep-alive to
  the server, no chunked answers), ``Upgrade`` and ``Connection`` are hop-by-hop and so not
  forwarded (a WebSocket handshake reaches the server as a plain GET and fails),
  ``proxy_buffering`` is on (an answer reaches the client when a buffer fills or the answer
  ends — unless the answer says ``X-Accel-Buffering: no``, as pushlab's SSE server does) and
  ``proxy_read_timeout`` is 60 s (a long poll held longer, or a quiet stream, is cut).
- ``nginx-tuned``: HTTP/1.1 upstream with keep-alive, ``Upgrade``/``Connection`` forwarded
  (nginx docs, "WebSocket proxying"), buffering off for the event stream, and a read timeout
  above the longest long-poll hold and every heartbeat interval.
- ``nginx-h2``: tuned, with TLS and HTTP/2 towards the client (ALPN ``h2``, ``http/1.1``).
  nginx 1.22 still speaks HTTP/1.1 to the server; HTTP/2 is the browser's side only.

``ignore_accel_buffering`` adds ``proxy_ignore_headers X-Accel-Buffering``: the proxy then
buffers the stream even though the server asked it not to — the failure the header prevents
(and what a proxy that does not know the header does). ``read_timeout_s`` is a parameter so
that a test can show the cut at a few seconds instead of a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pushlab.techniques import LONGPOLL_MAX_HOLD_S, SSE

NGINX_DEFAULT_READ_TIMEOUT_S = 60.0
"""``proxy_read_timeout``'s default (ngx_http_proxy_module)."""

TUNED_READ_TIMEOUT_S = LONGPOLL_MAX_HOLD_S + 30.0
"""Above the longest hold a client may ask for, and above the servers' heartbeat intervals
(``ServerConfig.ws_heartbeat_s``, ``sse_keepalive_s``), which stay below common proxies' 60 s."""

UPSTREAM_KEEPALIVE = 64
"""Idle connections nginx keeps open to the server (``keepalive`` in the upstream block)."""

TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

SSE_PATH = SSE.path
STATUS_PATH = "/nginx-status"

EVERY_PROFILE = ("proxy_set_header Host $http_host;",)
"""The one line every deployment adds, the default included: the client's ``Host``, not the
upstream's name (pushlab's servers answer 421 to a ``Host`` that is not theirs; RFC 9110
§15.5.20)."""

TUNED_DIRECTIVES = (
    "proxy_http_version 1.1;",
    "proxy_set_header Upgrade $http_upgrade;",
    "proxy_set_header Connection $connection_upgrade;",
)


@dataclass(frozen=True)
class Profile:
    """One way nginx is configured: its directives (quoted by the report) and its listener."""

    name: str
    summary: str  # one sentence for tables and help
    directives: tuple[str, ...]  # in every proxied location
    stream_directives: tuple[str, ...]  # added in the SSE location
    upstream_keepalive: int  # 0: a new connection to the server for every request
    read_timeout_s: float
    http2: bool  # TLS and HTTP/2 towards the client

    @property
    def scheme(self) -> str:
        return "https" if self.http2 else "http"

    def quoted(self) -> str:
        """Its directives as the report and the lesson quote them."""
        lines = [*EVERY_PROFILE, *self.directives, f"proxy_read_timeout {self.read_timeout_s:g}s;"]
        if self.stream_directives:
            lines.append(f"location {SSE_PATH} {{ {' '.join(self.stream_directives)} }}")
        if self.upstream_keepalive:
            lines.append(f"upstream {{ keepalive {self.upstream_keepalive}; }}")
        if self.http2:
            lines.append("listen … ssl http2;")
        return " ".join(lines)


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="nginx-default",
            summary="nginx as installed: HTTP/1.0 upstream, buffering on, 60 s read timeout, "
            "no Upgrade forwarding",
            directives=(),
            stream_directives=(),
            upstream_keepalive=0,
            read_timeout_s=NGINX_DEFAULT_READ_TIMEOUT_S,
            http2=False,
        ),
        Profile(
            name="nginx-tuned",
            summary="HTTP/1.1 upstream with keep-alive, Upgrade forwarded, no buffering of "
            "the event stream, read timeout above every hold and heartbeat",
            directives=(*TUNED_DIRECTIVES,),
            stream_directives=("proxy_buffering off;",),
            upstream_keepalive=UPSTREAM_KEEPALIVE,
            read_timeout_s=TUNED_READ_TIMEOUT_S,
            http2=False,
        ),
        Profile(
            name="nginx-h2",
            summary="tuned, with TLS and HTTP/2 towards the client",
            directives=(*TUNED_DIRECTIVES,),
            stream_directives=("proxy_buffering off;",),
            upstream_keepalive=UPSTREAM_KEEPALIVE,
            read_timeout_s=TUNED_READ_TIMEOUT_S,
            http2=True,
        ),
    )
}

PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def profile(name: str) -> Profile:
    """The profile called ``name``, or a ``ValueError`` that lists the known names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown proxy profile {name!r}; choose one of {', '.join(PROFILE_NAMES)}"
        ) from None


def nginx_conf(
    chosen: Profile,
    *,
    prefix: Path,
    listen_port: int,
    status_port: int,
    listen_host: str = "127.0.0.1",
    upstream: str,
    read_timeout_s: float | None = None,
    ignore_accel_buffering: bool = False,
    certificate: tuple[Path, Path] | None = None,
) -> str:
    """The whole ``nginx.conf``: every file nginx writes stays under ``prefix``; one worker
    process, so that its CPU is one process to sample; ``stub_status`` on ``/nginx-status``
    for its connection counters, on a plain loopback listener of its own (``status_port``) so that
    reading it needs no TLS; access log off (its writes would be the proxy's cost)."""
    timeout_s = chosen.read_timeout_s if read_timeout_s is None else read_timeout_s
    temp = "\n".join(f"    {name}_temp_path {prefix / name};" for name in TEMP_DIRS)
    location = [*EVERY_PROFILE, *chosen.directives, f"proxy_read_timeout {timeout_s:g}s;"]
    if ignore_accel_buffering:
        location.append("proxy_ignore_headers X-Accel-Buffering;")
    if chosen.upstream_keepalive and not chosen.directives:
        raise ValueError("upstream keep-alive needs HTTP/1.1 upstream")
    keepalive = f"keepalive {chosen.upstream_keepalive};" if chosen.upstream_keepalive else ""
    listen = f"{listen_host}:{listen_port}"
    tls = ""
    if chosen.http2:
        if certificate is None:
            raise ValueError(f"{chosen.name} needs a certificate")
        listen += " ssl http2"
        tls = (
            f"        ssl_certificate {certificate[0]};\n"
            f"        ssl_certificate_key {certificate[1]};\n"
            "        ssl_protocols TLSv1.2 TLSv1.3;\n"
        )
    common = "\n".join(f"            {line}" for line in location)
    stream = "\n".join(f"            {line}" for line in chosen.stream_directives)
    return f"""# pushlab: nginx profile {chosen.name} — {chosen.summary}
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log stderr warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
{temp}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream pushlab {{ server {upstream}; {keepalive} }}
    server {{
        listen 127.0.0.1:{status_port};
        location = {STATUS_PATH} {{ stub_status; }}
    }}
    server {{
        listen {listen};
{tls}        location / {{
            proxy_pass http://pushlab;
{common}
        }}
        location {SSE_PATH} {{
            proxy_pass http://pushlab;
{common}
{stream}
        }}
    }}
}}
"""
