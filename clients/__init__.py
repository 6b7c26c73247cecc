"""pushlab's clients: see each technique from the client's side of the wire.

- ``clients.conversation`` — the four terminal clients (``run`` / ``converse``)
- ``clients.handshake`` — a WebSocket over a raw socket, every byte explained
- ``clients.keepalive`` — what ``Connection: keep-alive`` saves, measured
- ``clients.rfc6455`` — pure (sans-I/O) handshake and framing functions
- ``clients.eventstream`` — a pure ``text/event-stream`` decoder

Nothing is imported here, so ``import clients.rfc6455`` stays free of aiohttp.
"""
