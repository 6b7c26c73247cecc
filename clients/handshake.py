"""A WebSocket conversation with nothing but a TCP socket, every byte shown.

    python -m pushlab.clients handshake [ws://127.0.0.1:8003/ws] [--key KEY] [--origin ORIGIN]
    python -m pushlab.clients handshake --verify KEY ACCEPT
    python -m pushlab.clients handshake --no-upgrade      # a plain GET on the WebSocket path
    python -m pushlab.clients handshake --version 8       # a version the server does not speak

No WebSocket library is involved: the bytes come from ``pushlab.rfc6455`` and go through a
plain blocking socket, so what is printed is exactly what travelled.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
from typing import TextIO

from pushlab import rfc6455
from pushlab.clients.handshake_frames import exchange_frames, send_unmasked
from pushlab.clients.i18n import add_lang_option
from pushlab.clients.target import ClientFailure, split_url
from pushlab.clients.wire import Connection, HandshakeResult, Printer
from pushlab.techniques import WEBSOCKET

DEFAULT_URL = f"ws://127.0.0.1:{WEBSOCKET.port}{WEBSOCKET.path}"
DEFAULT_TEXT = "hello from a raw socket"
WS_SCHEMES = {"ws": "ws", "http": "http"}


def explain_accept(
    key: str, printer: Printer, server_accept: str | None = None, label: str = "server sent"
) -> bool:
    """Print §4.2.2's recipe step by step; True when ``server_accept`` is the right answer."""
    steps = rfc6455.accept_steps(key)
    rows = [
        ("Sec-WebSocket-Key", steps.key),
        ("+ GUID (§1.3)", steps.guid),
        ("= concatenated", steps.concatenated),
        ("SHA-1, hex (20 bytes)", steps.sha1_hex),
        ("base64 of those bytes", steps.accept),
    ]
    for name, value in rows:
        printer.write(f"  {name:<24}{value}")
    if server_accept is None:
        return False
    matches = server_accept == steps.accept
    verdict = (
        "✓ matches: whoever computed it really read this key, so it speaks WebSocket"
        if matches
        else f"✗ does NOT match (expected {steps.accept})"
    )
    printer.write(f"  {label:<24}{server_accept}  {verdict}")
    return matches


def verify(key: str, accept: str, out: TextIO | None = None) -> bool:
    """``--verify``: does ``accept`` belong to ``key``? No server needed."""
    printer = Printer(out or sys.stdout)
    printer.heading("Sec-WebSocket-Accept = base64(SHA-1(key + GUID))  (RFC 6455 §4.2.2)")
    matches = explain_accept(key, printer, accept, label="Accept to check")
    if not matches:
        printer.write(
            f"{accept} is not the Accept of {key}; that key produces {rfc6455.accept_key(key)}"
        )
    return matches


def build_plain_request(host: str, path: str) -> bytes:
    """An ordinary GET, as a browser's address bar would send: no ``Upgrade`` header."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1")


def explain_refusal(head: rfc6455.ResponseHead, body: bytes, printer: Printer) -> None:
    """Why the server said no, in its words and in the RFC's."""
    try:
        said = json.loads(body).get("error")
    except (ValueError, AttributeError):
        said = None
    if said:
        printer.write(f"  the server says: {said}")
    version = head.header("Sec-WebSocket-Version")
    if head.status == 426 and version:
        printer.write(
            "  RFC 6455 §4.4: a server that does not speak the requested version answers"
            " 426 Upgrade Required and lists the versions it does:"
            f" Sec-WebSocket-Version: {version}"
        )
    elif head.status == 426:
        printer.write(
            "  426 Upgrade Required: this path only speaks WebSocket; a request without"
            " 'Upgrade: websocket' (§4.1) cannot be served here (RFC 9110 §15.5.22)"
        )
    elif head.status == 403:
        printer.write("  403: the server refuses this Origin (§10.2: it protects browsers' users)")
    elif head.status == 400:
        printer.write(
            "  400 Bad Request: the server rejected the request (§4.2.1 lists what an opening"
            " handshake needs; the server's reason is above)"
        )
    else:
        printer.write(f"  {head.status}: not an opening handshake answer (§4.2.2 needs 101)")


def handshake(
    url: str = DEFAULT_URL,
    *,
    key: str | None = None,
    origin: str | None = None,
    version: int | str = 13,
    upgrade: bool = True,
    text: str = DEFAULT_TEXT,
    out: TextIO | None = None,
    timeout_s: float = 5.0,
    masked: bool = True,
    lang: str = "en",
) -> HandshakeResult:
    """Open a TCP connection, upgrade it by hand, send one masked text frame, read the frames
    that come back (until our own message returns through the feed), then close (1000)."""
    parts = split_url(url, WS_SCHEMES)
    host, port = parts.hostname or "", parts.port or 80
    printer = Printer(out or sys.stdout, lang)
    query = parts.query
    newest = None if query or not upgrade else newest_id(host, port, timeout_s)
    if newest is not None:
        query = f"since={newest}"
    if newest:  # a feed with a history: say why the upgrade skips it
        printer.write(f"GET /stats: the newest message is #{newest}; asking for since={newest},")
        printer.write("  so the server pushes only what comes next (add ?since=0 for its history)")
    path = (parts.path or "/ws") + (f"?{query}" if query else "")
    key = rfc6455.generate_key() if key is None else key
    if upgrade:
        request = rfc6455.build_upgrade_request(
            parts.netloc, path, key, origin=origin, version=version
        )
    else:
        request = build_plain_request(parts.netloc, path)
    result = HandshakeResult(request, accept_expected=rfc6455.accept_key(key))

    connection = Connection(host, port, timeout_s)
    try:
        local_host, local_port = connection.sock.getsockname()[:2]
        printer.write(f"TCP connection open: {local_host}:{local_port} → {host}:{port}")
        title = "1. Opening handshake (§4.1): the client asks to switch protocols"
        printer.heading(title if upgrade else "1. A plain HTTP GET on the WebSocket path")
        printer.http("→", request)
        connection.send(request)
        result.response = head = connection.read_head()
        printer.heading("2. The server's answer, raw")
        printer.http("←", head.raw)
        if not result.upgraded:
            result.body = connection.read_body(head)
            if result.body:
                printer.write(f"← {result.body.decode(errors='replace')}")
            printer.heading("Why")
            explain_refusal(head, result.body, printer)
            return result
        printer.heading("3. Checking Sec-WebSocket-Accept (§4.2.2)")
        result.accept_matches = explain_accept(key, printer, head.header("Sec-WebSocket-Accept"))
        if masked:
            exchange_frames(connection, printer, result, text, wait_s=timeout_s)
        else:
            send_unmasked(connection, printer, result, text, wait_s=timeout_s)
    except TimeoutError:
        raise ClientFailure(f"{host}:{port} stopped answering (timed out)") from None
    except ConnectionError as error:
        raise ClientFailure(f"{host}:{port} dropped the connection: {error.strerror}") from None
    finally:
        connection.close()
    return result


def newest_id(host: str, port: int, timeout_s: float) -> int | None:
    """The feed's newest message id from the server's ``/stats``, or None if it has none.

    Without ``since`` a pushlab WebSocket server replays its history from the oldest message
    (``since=0``); starting from the present shows our own message as the first one back.
    """
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("GET", "/stats")
        response = connection.getresponse()
        return int(json.loads(response.read())["last_id"]) if response.status == 200 else None
    except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException):
        return None  # not a pushlab server, or not listening: the handshake will say so
    finally:
        connection.close()


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "handshake",
        help="a WebSocket handshake and frames over a raw socket, byte by byte",
        description="Upgrade a raw TCP connection to WebSocket by hand and explain every byte.",
    )
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--key", help="Sec-WebSocket-Key to send (default: 16 random bytes)")
    parser.add_argument("--origin", help="send this Origin header, as a browser would")
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the text frame's message")
    parser.add_argument(
        "--verify",
        nargs=2,
        metavar=("KEY", "ACCEPT"),
        help="check that ACCEPT is the Sec-WebSocket-Accept of KEY (no server needed)",
    )
    parser.add_argument(
        "--no-upgrade", action="store_true", help="send a plain GET and show the refusal"
    )
    parser.add_argument("--version", default="13", help="Sec-WebSocket-Version to send (try 8)")
    parser.add_argument(
        "--unmasked",
        action="store_true",
        help="send one unmasked frame (§5.1) and print how the server closes",
    )
    add_lang_option(parser)
    parser.set_defaults(handler=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    if args.verify:
        return 0 if verify(*args.verify) else 1
    result = handshake(
        args.url,
        key=args.key,
        origin=args.origin,
        version=args.version,
        upgrade=not args.no_upgrade,
        text=args.text,
        masked=not args.unmasked,
        lang=args.lang,
    )
    if args.unmasked:  # the rule holds when the server answers with 1002
        closed_with = result.close_reply and rfc6455.parse_close_payload(result.close_reply.payload)
        return 0 if closed_with and closed_with[0] == rfc6455.CloseCode.PROTOCOL_ERROR else 1
    refusal_demo = args.no_upgrade or args.version != "13"
    if refusal_demo:
        return 0 if result.response and not result.upgraded else 1
    if result.refusal is not None:
        return 1  # the server said why, in the printout; our message was not published
    return 0 if result.upgraded and result.accept_matches and result.close_reply else 1
