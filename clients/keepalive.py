"""Keep-alive, measured: the same requests over one TCP connection, then one connection each.

    python -m pushlab.clients keepalive [http://127.0.0.1:8001/poll] [-n 5]

The source article's point: ``Connection: keep-alive`` only asks the server not to hang up
after an answer, so the next request can reuse the TCP connection. It saves connection
set-up; it does not let the server speak first. The client's local port shows which
connection carried a request (same port = same connection), and the server's
``tcp_connections_opened`` counter confirms it from the other side.

Plain ``http.client`` on purpose: blocking, one request at a time, nothing hidden.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import quote, urlencode

from pushlab.clients.i18n import English, add_lang_option, texts
from pushlab.clients.target import ClientFailure, default_url, split_url
from pushlab.techniques import POLLING, TECHNIQUES

DEFAULT_URL = default_url(POLLING.name) + POLLING.path
HTTP_ONLY = {"http": "http"}
MAX_REQUESTS = 10_000  # per mode; "Connection: close" leaves each port in TIME_WAIT


@dataclass
class Mode:
    """One run of N requests: which local port each used and how long each took."""

    name: str
    statuses: list[int] = field(default_factory=list)
    local_ports: list[int] = field(default_factory=list)
    times_s: list[float] = field(default_factory=list)
    connections_before: int = 0
    connections_after: int = 0

    @property
    def connections_opened(self) -> int:
        """As the server counted them."""
        return self.connections_after - self.connections_before

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.times_s) * 1000


@dataclass
class KeepAliveResult:
    target: str
    keep_alive: Mode
    close: Mode


class Server:
    """The server's own view, over a connection of its own kept open for the whole demo
    (so asking for ``/stats`` opens no connections between the counts)."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=10)

    def get_json(self, path: str) -> Any:
        self.connection.request("GET", path)
        answer = self.connection.getresponse()
        body = answer.read()
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if answer.status != 200 or not isinstance(data, dict):
            raise ClientFailure(f"not a pushlab server (GET {path} answered {answer.status})")
        return data

    def connections_opened(self) -> int:
        return int(self.get_json("/stats")["tcp_connections_opened"])


def request_target(path: str, query: str, server: Server) -> str:
    """The path to ask for. A bare ``/poll`` gets ``since=<newest id>`` (no old history in the
    answers) and, on a server that holds polls (long polling), ``timeout=0`` (answer at once)."""
    if path != POLLING.path or query:
        # A request line is ASCII: "/pöll" goes out as "/p%C3%B6ll" (what a browser sends).
        path, query = quote(path, safe="/%:@!$&'()*+,;="), quote(query, safe="=&%+,;:@/")
        return path + (f"?{query}" if query else "")
    params = {"since": server.get_json("/stats")["last_id"]}
    entry = TECHNIQUES.get(server.get_json("/healthz").get("technique", ""))
    if entry is not None and entry.holds_request and not entry.pushes:
        params["timeout"] = 0  # a long poll
    return f"{path}?{urlencode(params)}"


def one_request(
    connection: http.client.HTTPConnection, target: str, headers: dict
) -> tuple[int, int, float]:
    """Send one GET; return the answer's status, the local port that carried the request and
    the time to the answer's last byte."""
    started = time.perf_counter()
    connection.request("GET", target, headers=headers)
    assert connection.sock is not None  # request() has connected it
    local_port = connection.sock.getsockname()[1]  # now: after a "close" answer it is gone
    answer = connection.getresponse()
    if answer.getheader("Content-Type", "").startswith("text/event-stream"):
        raise ClientFailure(
            f"GET {target} is an event stream that never ends; keep-alive reuses a connection"
            " between requests that do end: try /poll or /healthz"
        )
    answer.read()
    if not 200 <= answer.status < 300:
        raise ClientFailure(
            f"GET {target} answered {answer.status} {answer.reason}; keep-alive is shown with"
            " requests that succeed: try /poll or /healthz"
        )
    return answer.status, local_port, time.perf_counter() - started


def measure(
    mode: Mode, server: Server, host: str, port: int, target: str, n: int, reuse: bool
) -> Mode:
    mode.connections_before = server.connections_opened()
    shared = http.client.HTTPConnection(host, port, timeout=10) if reuse else None
    for _ in range(n):
        connection = shared or http.client.HTTPConnection(host, port, timeout=10)
        headers = {} if reuse else {"Connection": "close"}
        status, local_port, elapsed_s = one_request(connection, target, headers)
        mode.statuses.append(status)
        mode.local_ports.append(local_port)
        mode.times_s.append(elapsed_s)
        if not reuse:
            connection.close()
    if shared is not None:
        shared.close()
    mode.connections_after = server.connections_opened()
    return mode


def report(mode: Mode, title: str, out: TextIO, phrases: English) -> None:
    print(phrases.heading(title), file=out)
    rows = zip(mode.statuses, mode.local_ports, mode.times_s, strict=True)
    for number, (status, local_port, elapsed_s) in enumerate(rows, 1):
        print(
            f"  request {number:>2}: {status}, local port {local_port}, {elapsed_s * 1000:6.2f} ms",
            file=out,
        )
    print(
        f"  server tcp_connections_opened: {mode.connections_before} → {mode.connections_after}"
        f" (+{mode.connections_opened});  mean {mode.mean_ms:.2f} ms per request",
        file=out,
    )


def keepalive(
    url: str = DEFAULT_URL, n: int = 5, out: TextIO | None = None, lang: str = "en"
) -> KeepAliveResult:
    """Run both modes against ``url`` and print what they show."""
    out = out or sys.stdout
    phrases = texts(lang)
    if not 1 <= n <= MAX_REQUESTS:
        raise ClientFailure(f"-n must be from 1 to {MAX_REQUESTS:,}")
    parts = split_url(url, HTTP_ONLY)
    host, port = parts.hostname or "", parts.port or 80
    try:
        server = Server(host, port)
        target = request_target(parts.path or "/", parts.query, server)
        print(f"GET {target} on {host}:{port}, {n} times each way\n", file=out)
        kept = measure(Mode("keep-alive"), server, host, port, target, n, reuse=True)
        report(
            kept,
            "Connection: keep-alive (HTTP/1.1's default): one TCP connection for all",
            out,
            phrases,
        )
        closed = measure(Mode("close"), server, host, port, target, n, reuse=False)
        print(file=out)
        report(closed, "Connection: close: the server hangs up after each answer", out, phrases)
        server.connection.close()
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "strerror", None) or error.__class__.__name__
        raise ClientFailure(f"cannot talk to {host}:{port}: {reason}") from None
    print("\n" + phrases.heading("What this shows:"), file=out)
    print(
        f"  Same local port = same TCP connection: keep-alive used {len(set(kept.local_ports))}"
        f" port(s) and the server opened {kept.connections_opened} connection(s) for {n} requests;"
        f" Connection: close used {len(set(closed.local_ports))} and opened"
        f" {closed.connections_opened}, one TCP handshake per request.",
        file=out,
    )
    print(
        f"  Per request {kept.mean_ms:.2f} ms on the kept connection vs {closed.mean_ms:.2f} ms"
        f" with a new one each ({closed.mean_ms / kept.mean_ms:.1f}×). {phrases.keepalive_moral()}",
        file=out,
    )
    return KeepAliveResult(target, kept, closed)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "keepalive",
        help="N requests over one kept-alive connection, then N with Connection: close",
        description="Show what Connection: keep-alive saves (and what it does not do).",
    )
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("-n", type=positive_int, default=5, help="requests per mode (default 5)")
    add_lang_option(parser)
    parser.set_defaults(handler=run_cli)


def positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_REQUESTS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_REQUESTS:,}: {text!r}"
        )
    return int(text)


def run_cli(args: argparse.Namespace) -> int:
    keepalive(args.url, args.n, lang=args.lang)
    return 0
