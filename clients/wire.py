"""What both halves of the handshake explainer share: the socket, the printer and the record.

``clients/handshake.py`` opens the connection and does the opening handshake (RFC 6455 §4);
``clients/handshake_frames.py`` carries on with the frames (§5) and the closing handshake (§7).
Both work on the objects here, so neither imports the other's module for them: the imports
point one way, handshake → handshake_frames → wire.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import TextIO

from pushlab import rfc6455
from pushlab.clients.annotate import annotate_frame, format_annotation
from pushlab.clients.i18n import texts
from pushlab.clients.narration import wants_colour
from pushlab.clients.target import ClientFailure
from pushlab.rfc6455 import Frame

MAX_HEX_BYTES = 128  # longer frames: the first 128 bytes are printed


@dataclass
class HandshakeResult:
    """What happened, for tests and notebooks (the printout tells the same story)."""

    request: bytes
    response: rfc6455.ResponseHead | None = None
    body: bytes = b""
    accept_expected: str = ""
    accept_matches: bool = False
    frames_received: list[Frame] = field(default_factory=list)
    refusal: str | None = None  # the server's {"error": ...} answer to our text frame
    close_reply: Frame | None = None

    @property
    def upgraded(self) -> bool:
        return self.response is not None and self.response.status == 101


class Printer:
    """Headings, raw HTTP text with its CRLFs visible, and annotated frames."""

    def __init__(self, out: TextIO, lang: str = "en") -> None:
        self.out = out
        self.colour = wants_colour(out)
        self.texts = texts(lang)

    def write(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def heading(self, text: str) -> None:
        text = self.texts.heading(text)
        self.write()
        self.write(f"\x1b[1m== {text} ==\x1b[0m" if self.colour else f"== {text} ==")

    def http(self, arrow: str, raw: bytes) -> None:
        """HTTP text exactly as sent or received, each line with its ``\\r\\n`` shown."""
        text = raw.decode("latin-1")
        for line in text.split("\r\n")[:-1] if text.endswith("\r\n") else text.split("\r\n"):
            self.write(f"{arrow} {line}\\r\\n")

    def frame(self, arrow: str, label: str, raw: bytes) -> None:
        self.write(f"{arrow} {label}, {len(raw)} bytes:")
        for row in range(0, min(len(raw), MAX_HEX_BYTES), 16):
            more = " …" if row + 16 >= MAX_HEX_BYTES and len(raw) > MAX_HEX_BYTES else ""
            self.write(f"    {raw[row : row + 16].hex(' ')}{more}")
        self.write(format_annotation(annotate_frame(raw), indent="    "))


class Connection:
    """A blocking TCP socket plus a receive buffer, with the reads a handshake needs."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout_s)
        except socket.gaierror as error:
            raise ClientFailure(f"cannot resolve {host}: {error.strerror}") from None
        except TimeoutError:
            raise ClientFailure(f"cannot connect to {host}:{port}: timed out") from None
        except OSError as error:
            raise ClientFailure(f"cannot connect to {host}:{port}: {error.strerror}") from None
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive_more(self) -> bool:
        """Read what has arrived; False at end of stream."""
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def read_head(self) -> rfc6455.ResponseHead:
        while (parsed := rfc6455.parse_response_head(self.buffer)) is None:
            if not self.receive_more():
                raise ClientFailure("the server closed the connection without an HTTP answer")
        head, consumed = parsed
        self.buffer = self.buffer[consumed:]
        return head

    def read_body(self, head: rfc6455.ResponseHead) -> bytes:
        """The body of a refusal (``Content-Length``, or until the server closes)."""
        length = head.header("Content-Length")
        try:
            while length is None or len(self.buffer) < int(length):
                if not self.receive_more():
                    break
        except TimeoutError:
            pass
        body, self.buffer = self.buffer, b""
        return body

    def read_frame(self) -> tuple[Frame, bytes] | None:
        """The next frame and its raw bytes; None at end of stream."""
        while (parsed := rfc6455.decode_frame(self.buffer)) is None:
            if not self.receive_more():
                return None
        frame, consumed = parsed
        raw, self.buffer = self.buffer[:consumed], self.buffer[consumed:]
        return frame, raw
