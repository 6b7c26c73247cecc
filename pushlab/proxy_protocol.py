"""The PROXY protocol, version 1: a proxy tells the server who the client really is.

Behind a proxy (the demo's network emulator, nginx) every connection a server accepts comes
from the proxy's address, so limits per client address and the logs would see one client. The
PROXY protocol (HAProxy's specification, "The PROXY protocol, versions 1 & 2"; what nginx sends
with ``proxy_protocol on``) fixes that with one line the proxy writes before anything else on
its connection to the server::

    PROXY TCP4 192.0.2.7 127.0.0.1 51234 8001\\r\\n

source address, destination address, source port, destination port. ``PROXY UNKNOWN`` says the
proxy does not know (the server then keeps the proxy's own address). The line is at most 107
bytes. A server must take it only from proxies it trusts: anyone else could claim any address.
"""

from __future__ import annotations

import ipaddress

SIGNATURE = b"PROXY "
MAX_V1_BYTES = 107  # the whole line, CRLF included (the specification's bound)


class ProxyHeaderError(ValueError):
    """A line that starts like a PROXY header but is not a valid one."""


def header_v1(source: tuple[str, int], destination: tuple[str, int]) -> bytes:
    """The line a proxy writes for a client at ``source`` that reached it at ``destination``."""
    family = "TCP6" if ":" in source[0] else "TCP4"
    if (":" in destination[0]) != (family == "TCP6"):
        return b"PROXY UNKNOWN\r\n"  # the two sides differ in family: say nothing false
    return f"PROXY {family} {source[0]} {destination[0]} {source[1]} {destination[1]}\r\n".encode()


def parse_v1(line: bytes) -> tuple[str, int] | None:
    """The client's ``(address, port)`` from a whole header line (CRLF included), or None for
    ``PROXY UNKNOWN``; :class:`ProxyHeaderError` if the line is malformed."""
    if not line.startswith(SIGNATURE) or not line.endswith(b"\r\n") or len(line) > MAX_V1_BYTES:
        raise ProxyHeaderError("not a PROXY protocol v1 line")
    fields = line[:-2].decode("ascii", errors="replace").split(" ")
    if fields[1:2] == ["UNKNOWN"]:
        return None
    if len(fields) != 6 or fields[1] not in ("TCP4", "TCP6"):
        raise ProxyHeaderError(f"a PROXY line has 6 fields, TCP4 or TCP6: {line!r}")
    _, family, source, destination, source_port, destination_port = fields
    try:
        addresses = [ipaddress.ip_address(source), ipaddress.ip_address(destination)]
        ports = [int(source_port), int(destination_port)]
    except ValueError:
        raise ProxyHeaderError(f"bad address or port in {line!r}") from None
    if any(a.version != (6 if family == "TCP6" else 4) for a in addresses) or not all(
        p.isdigit() and 0 <= int(p) <= 65535 for p in (source_port, destination_port)
    ):
        raise ProxyHeaderError(f"addresses or ports do not match {family} in {line!r}")
    return str(addresses[0]), ports[0]
