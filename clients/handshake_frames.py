"""After the handshake: data frames up and down, and the closing handshake, every byte shown.

The second half of ``pushlab client handshake`` (see ``clients/handshake.py`` for the first):
one masked text frame up (RFC 6455 §5.3), frames down until our message comes back, pings
answered (§5.5.2), then the close (§7.1.2) — or, with ``--unmasked``, the frame §5.1 forbids.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from pushlab import rfc6455
from pushlab.clients.wire import Connection, HandshakeResult, Printer
from pushlab.rfc6455 import Frame, Opcode

MAX_FRAMES_SHOWN = 5


def shorten(text: str, limit: int = 96) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FrameLog:
    """Reads frames and prints them: control frames, the first text frame and our own message
    in full, other text frames one line each, and past ``MAX_FRAMES_SHOWN`` only a count."""

    def __init__(
        self, connection: Connection, printer: Printer, result: HandshakeResult, text: str
    ) -> None:
        self.connection, self.printer, self.result, self.text = connection, printer, result, text
        self.text_frames = self.hidden = 0

    def receive_until(self, last: Callable[[Frame], bool], wait_s: float) -> bool:
        """Read frames until ``last`` says so or the server closes: True; False when
        ``wait_s`` passes first (a running publisher keeps frames coming, so the socket's own
        timeout alone would never fire)."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            received = self.connection.read_frame()
            if received is None:
                return True
            frame, raw = received
            self.show(frame, raw)
            if frame.opcode is Opcode.CLOSE:
                self.result.close_reply = frame
                return True
            if frame.opcode is Opcode.PING:  # §5.5.2–3: a ping is answered with its data
                pong = rfc6455.encode_frame(Frame(Opcode.PONG, frame.payload), mask=True)
                self.printer.frame("→", "pong frame", pong)
                self.connection.send(pong)
            if last(frame):
                return True
        return False

    def show(self, frame: Frame, raw: bytes) -> None:
        self.result.frames_received.append(frame)
        label = f"{frame.opcode.name.lower()} frame"
        if frame.opcode is not Opcode.TEXT:
            self.printer.frame("←", label, raw)
            return
        self.text_frames += 1
        if is_our_message(frame, self.text):
            self.flush_hidden()
            self.printer.frame("←", "text frame: our own message, published and pushed back", raw)
        elif self.text_frames == 1:
            self.printer.frame("←", label, raw)
        elif self.text_frames <= MAX_FRAMES_SHOWN:
            self.printer.write(f"← {label}, {len(raw)} bytes: {shorten(frame.payload.decode())}")
        else:
            self.hidden += 1

    def flush_hidden(self) -> None:
        if self.hidden:
            self.printer.write(f"  (… {self.hidden} more text frame(s) with other messages)")
            self.hidden = 0


def exchange_frames(
    connection: Connection, printer: Printer, result: HandshakeResult, text: str, wait_s: float
) -> None:
    """§5: one masked text frame up, frames down until our message comes back, then close."""
    printer.heading("4. Data frames (§5.2): the client must mask what it sends (§5.3)")
    ours = rfc6455.encode_frame(Frame.text(json.dumps({"text": text})), mask=True)
    printer.frame("→", "text frame", ours)
    connection.send(ours)
    log = FrameLog(connection, printer, result, text)

    def answered(frame: Frame) -> bool:
        result.refusal = refusal_of(frame)
        return result.refusal is not None or is_our_message(frame, text)

    if not log.receive_until(answered, wait_s):
        log.flush_hidden()
        printer.write(f"  our message did not come back within {wait_s:g} s; closing anyway")
    elif result.refusal is not None:
        log.flush_hidden()
        printer.write(f"  the server refused our message: {result.refusal}")
    if result.close_reply is None:
        printer.heading("5. Closing handshake (§7.1.2): close frame 1000, the server echoes it")
        closing = rfc6455.encode_frame(Frame.close(rfc6455.CloseCode.NORMAL_CLOSURE), mask=True)
        printer.frame("→", "close frame", closing)
        connection.send(closing)
        if not log.receive_until(lambda frame: False, wait_s):
            printer.write(f"  no close frame came back within {wait_s:g} s")
    log.flush_hidden()
    if result.close_reply is None or connection.read_frame() is None:
        printer.write("  the server closed the TCP connection (§7.1.1: the server closes first)")


def send_unmasked(
    connection: Connection, printer: Printer, result: HandshakeResult, text: str, wait_s: float
) -> None:
    """§5.1: "a server MUST close the connection upon receiving a frame that is not masked"
    (with 1002, protocol error, §7.4.1). Masking keeps a page's script from choosing the bytes
    on the wire, which could otherwise fool a proxy (§10.3)."""
    printer.heading("4. An unmasked text frame (§5.1 forbids it: clients MUST mask)")
    frame = rfc6455.encode_frame(Frame.text(json.dumps({"text": text})), mask=False)
    printer.frame("→", "text frame, mask bit 0", frame)
    connection.send(frame)
    log = FrameLog(connection, printer, result, text)
    if not log.receive_until(lambda frame: False, wait_s) or result.close_reply is None:
        printer.write("  no close frame came: this server does not enforce §5.1")
        return
    code, reason = rfc6455.parse_close_payload(result.close_reply.payload)
    printer.write(f"  the server failed the connection: close {code} {reason}".rstrip())


def refusal_of(frame: Frame) -> str | None:
    """The text of a pushlab server's ``{"error": ...}`` frame, else None."""
    error = frame_object(frame).get("error")
    return error if isinstance(error, str) else None


def is_our_message(frame: Frame, text: str) -> bool:
    return frame_object(frame).get("text") == text


def frame_object(frame: Frame) -> dict:
    """A text frame's JSON object; empty for anything else."""
    if frame.opcode is not Opcode.TEXT:
        return {}
    try:
        message = json.loads(frame.payload)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}
