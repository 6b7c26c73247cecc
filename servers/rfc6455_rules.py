"""The RFC 6455 rules a server MUST enforce and aiohttp does not.

- §5.1: "a client MUST mask all frames that it sends to the server"; "a server MUST close the
  connection upon receiving a frame that is not masked", with 1002 (protocol error) per §7.4.1.
  Masking is why a script in a page cannot make a WebSocket connection carry bytes that a proxy
  would take for another protocol (§10.3). aiohttp unmasks what is masked and accepts what is not.
- §7.4.1 / §7.4.2: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control
  frame by an endpoint", and codes below 1000, unassigned ones below 3000 and 5000 up are not
  valid either. aiohttp accepts every code in its ``WSCloseCode`` (1006 among them) and anything
  from 5000 up; we fail the connection with 1002 instead.
- §4.1: the opening handshake is an HTTP/1.1 request ("the HTTP version MUST be at least 1.1").
- A dropped connection is released when the transport reports it: aiohttp leaves the ping
  timer armed (holding the response, its buffers and its request) until the next heartbeat.

``FrameRules`` is sans-I/O: it reads only the frame headers (and a Close frame's code) from the
raw bytes, with the codec's own :func:`pushlab.rfc6455.read_header`, before aiohttp's parser
sees them. What the codec already knows of a header (a reserved opcode, §5.2; a long or
fragmented control frame, §5.5) it checks too, though aiohttp would also catch those.
``StrictWebSocketResponse`` puts it in front of that parser, so a violating frame is never
parsed, never published, and the client gets 1002.

``ClientFrames`` is the whole reader, for the connections pushlab reads itself after the
handshake (:mod:`pushlab.servers.websocket_connection`): the same rules, plus what aiohttp's
parser did (fragments joined, text checked as UTF-8, a size limit), as a sans-I/O class.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from aiohttp.http_websocket import WebSocketError, WSCloseCode

from pushlab.rfc6455 import (
    CloseCode,
    Frame,
    FrameHeader,
    Opcode,
    ProtocolError,
    apply_mask,
    check_control,
    close_code_may_be_sent,
    decode_frame,
    header_size,
    opcode_of,
    parse_close_payload,
    read_header,
)


class FrameRules:
    """Reads frame headers out of a byte stream; ``feed`` returns the first violation found.

    The answer is ``(offset, reason)``: the bytes before ``offset`` are frames that keep the
    rules, the frame at ``offset`` breaks them. None means every frame so far is fine (or
    that a violation was already reported: the connection is failed, and nothing after it is
    read). The headers are read by the codec (:mod:`pushlab.rfc6455`), so these rules and
    every other part of pushlab agree on what the bytes say.
    """

    def __init__(self) -> None:
        self._head = bytearray()  # the current frame's header, while it is incomplete
        self._payload_left = 0  # bytes of the current payload still to skip
        self._close_code: bytearray | None = None  # a Close frame's code, as sent (masked)
        self._masking_key = b""
        self._frame_start = 0
        self._failed = False

    def feed(self, data: bytes) -> tuple[int, str] | None:
        if self._failed:
            return None
        problem = self._read(data)
        self._failed = problem is not None
        return problem

    def _read(self, data: bytes) -> tuple[int, str] | None:
        position = 0
        self._frame_start = 0  # a frame still unfinished began before this chunk
        while position < len(data):
            if self._payload_left:
                taken = min(self._payload_left, len(data) - position)
                problem = self._read_close_code(data[position : position + taken])
                if problem:
                    return self._frame_start, problem
                position += taken
                self._payload_left -= taken
                continue
            if not self._head:
                self._frame_start = position
            wanted = header_size(self._head[1]) if len(self._head) >= 2 else 2
            taken = min(wanted - len(self._head), len(data) - position)
            self._head += data[position : position + taken]
            position += taken
            problem = self._header_done()
            if problem:
                return self._frame_start, problem
        return None

    def _header_done(self) -> str | None:
        """The rules a header alone decides, once it is complete (§5.1, §5.2, §5.5)."""
        try:
            header = read_header(self._head)
            if header is None:
                return None
            if not header.mask:
                return "an unmasked frame from a client (RFC 6455 §5.1: clients MUST mask)"
            opcode = opcode_of(header)
            check_control(opcode, header.fin, header.length)
        except ProtocolError as error:
            return f"RFC 6455: {error}"
        self._masking_key = header.masking_key or b""
        self._close_code = bytearray() if opcode is Opcode.CLOSE and header.length >= 2 else None
        self._head = bytearray()
        self._payload_left = header.length
        return None

    def _read_close_code(self, chunk: bytes) -> str | None:
        """§7.4: a Close frame's first two payload bytes are its code; some may not be sent."""
        if self._close_code is None or len(self._close_code) >= 2:
            return None
        self._close_code += chunk[: 2 - len(self._close_code)]
        if len(self._close_code) < 2:
            return None
        code, _ = parse_close_payload(apply_mask(bytes(self._close_code), self._masking_key))
        if not close_code_may_be_sent(code):
            return f"close code {code} must not be sent (RFC 6455 §7.4)"
        return None


class ConnectionFailure(Exception):
    """§7.1.7 "_Fail the WebSocket Connection_": the close code to send (§7.4.1), and why."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class ClientFrames:
    """A server's reader of what a client sends, sans-I/O: bytes in, frames out (§5).

    ``feed(data)`` yields each control frame as it arrives and each data message once whole
    (its fragments joined, §5.4), payloads unmasked. At the first frame that breaks a rule it
    raises :class:`ConnectionFailure`, after yielding the frames before it, and forgets what it
    held (the next bytes are read as a new frame: the client's Close, with luck):

    - 1002 (protocol error): an unmasked frame (§5.1), a reserved bit with no extension, a
      reserved opcode (§5.2), a long or fragmented control frame (§5.5), a continuation with
      nothing to continue or a new message inside a fragmented one (§5.4), a Close frame of one
      byte or with a code that may not be sent (§5.5.1, §7.4);
    - 1007 (invalid payload data): text, or a close reason, that is not UTF-8 (§5.6, §8.1);
    - 1009 (message too big): a message over ``max_size`` bytes, known from the header alone.
    """

    __slots__ = ("_buffer", "_fragments", "_max_size")

    def __init__(self, max_size: int) -> None:
        self._buffer = bytearray()
        self._fragments: list[Frame] | None = None  # a fragmented message so far (§5.4)
        self._max_size = max_size

    def feed(self, data: bytes) -> Iterator[Frame]:
        self._buffer += data
        try:
            while (frame := self._next_frame()) is not None:
                message = self._message(frame)
                if message is not None:
                    yield message
        except ConnectionFailure:
            self._buffer.clear()
            self._fragments = None
            raise

    def _next_frame(self) -> Frame | None:
        """The first whole frame in the buffer, taken out of it (None: wait for more bytes)."""
        if self._header() is None:
            return None
        decoded = decode_frame(self._buffer)  # the codec's: header checked above, unmasked
        if decoded is None:
            return None
        frame, consumed = decoded
        del self._buffer[:consumed]
        return frame

    def _header(self) -> FrameHeader | None:
        """The next frame's header once complete, judged by the rules a header decides."""
        try:
            header = read_header(self._buffer[:14])  # 14: the longest header (2 + 8 + 4)
            if header is None:
                return None
            opcode = opcode_of(header)
            check_control(opcode, header.fin, header.length)
        except ProtocolError as error:
            raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, f"RFC 6455: {error}") from None
        if not header.mask:
            raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, "an unmasked frame (§5.1)")
        if any(header.rsv):
            raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, "a reserved bit is set (§5.2)")
        if opcode is Opcode.CONT and self._fragments is None:
            raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, "nothing to continue (§5.4)")
        if opcode in (Opcode.TEXT, Opcode.BINARY) and self._fragments is not None:
            raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, "a fragmented message unfinished")
        held = sum(len(f.payload) for f in self._fragments or ())
        if not opcode.is_control and held + header.length > self._max_size:
            raise ConnectionFailure(
                CloseCode.MESSAGE_TOO_BIG, f"a message over {self._max_size} bytes"
            )
        return header

    def _message(self, frame: Frame) -> Frame | None:
        """A control frame, checked; a data frame joined to its message (None until whole)."""
        if frame.opcode is Opcode.CLOSE:
            check_close(frame.payload)
            return frame
        if frame.opcode.is_control:
            return frame
        if self._fragments is not None:  # a continuation: the message is the first's (§5.4)
            self._fragments.append(frame)
            if not frame.fin:
                return None
            fragments, self._fragments = self._fragments, None
            frame = Frame(fragments[0].opcode, b"".join(f.payload for f in fragments))
        elif not frame.fin:
            self._fragments = [frame]
            return None
        if frame.opcode is Opcode.TEXT:
            check_utf8(frame.payload, "text")
        return frame


def check_close(payload: bytes) -> None:
    """§5.5.1: a Close frame's body is empty, or a code that may be sent then UTF-8 text."""
    if len(payload) == 1:
        raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, "a close body of 1 byte (§5.5.1)")
    check_utf8(payload[2:], "close reason")
    code, _ = parse_close_payload(payload)
    if payload and not close_code_may_be_sent(code):
        raise ConnectionFailure(CloseCode.PROTOCOL_ERROR, f"close code {code} (§7.4)")


def check_utf8(payload: bytes, what: str) -> None:
    try:
        payload.decode()
    except UnicodeDecodeError:
        raise ConnectionFailure(
            CloseCode.INVALID_FRAME_PAYLOAD_DATA, f"{what} that is not UTF-8 (§8.1)"
        ) from None


class StrictReader:
    """Stands in front of aiohttp's frame parser and stops at the first broken rule."""

    def __init__(self, inner: object, ws: web.WebSocketResponse) -> None:
        self._inner = inner
        self._ws = ws
        self._rules = FrameRules()
        self.failed = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.failed:
            return False, b""
        problem = self._rules.feed(bytes(data))
        if problem is None:
            return self._inner.feed_data(data)  # type: ignore[attr-defined,no-any-return]
        offset, reason = problem
        if offset:
            self._inner.feed_data(data[:offset])  # type: ignore[attr-defined]
        self.failed = True
        queue = self._ws._reader  # aiohttp's queue of parsed messages
        if queue is not None:
            queue.set_exception(WebSocketError(WSCloseCode.PROTOCOL_ERROR, reason))
        return False, b""

    def feed_eof(self) -> None:
        """The transport reports the connection gone: release it now. aiohttp keeps the
        heartbeat's timer (and through it the whole response) until the next beat."""
        self._inner.feed_eof()  # type: ignore[attr-defined]
        self._ws._cancel_heartbeat()


class StrictWebSocketResponse(web.WebSocketResponse):
    """aiohttp's ``WebSocketResponse`` with :class:`FrameRules` in front of its parser.

    aiohttp hands the bytes that followed the handshake in the same read (``_message_tail``)
    to its parser inside ``_post_start``; we hold them back and feed them through the rules.
    """

    def _post_start(self, request: web.BaseRequest, *args: object, **kwargs: object) -> None:
        protocol = request.protocol
        tail, protocol._message_tail = protocol._message_tail, b""
        super()._post_start(request, *args, **kwargs)  # type: ignore[arg-type]
        reader = StrictReader(protocol._payload_parser, self)
        protocol._payload_parser = reader  # type: ignore[assignment]
        if tail:
            reader.feed_data(tail)


def upgrade_problem(request: web.Request) -> web.Response | None:
    """§4.1: an upgrade over HTTP/1.0 is refused (505), not answered ``HTTP/1.0 101``."""
    if request.version < (1, 1):
        response = web.json_response(
            {"error": "a WebSocket handshake needs HTTP/1.1 (RFC 6455 §4.1)"}, status=505
        )
        response.force_close()
        return response
    return None
