"""pushlab's clients: see each technique from the client's side of the wire.

- ``clients.conversation`` — the four terminal clients (``run`` / ``converse``)
- ``clients.handshake`` — a WebSocket over a raw socket, every byte explained
- ``clients.keepalive`` — what ``Connection: keep-alive`` saves, measured
- ``clients.eventstream`` — a pure ``text/event-stream`` decoder

The WebSocket bytes themselves (handshake and frames, sans-I/O) are ``pushlab.rfc6455``,
shared with the servers. Nothing is imported here, so importing one client loads only what it
needs.
"""
