"""The load generator's TLS: what its clients accept from a proxy in front of the server.

Over ``https`` (nginx-h2 in the proxy sweep) the certificate is made at the proxy's start for
localhost and signed by nobody; the generator talks to loopback only, so its clients accept it
without checking (``ssl._create_unverified_context``). One context factory for every client."""

from __future__ import annotations

import ssl


def unverified_tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """The clients' TLS context. It takes ``cafile`` and ignores it: given a factory without
    that argument, geventhttpclient loads the whole CA bundle into every user's context, and a
    hundred users starting together spend seconds of the generator's CPU on it."""
    return ssl._create_unverified_context()
