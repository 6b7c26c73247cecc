"""The WebSocket protocol's bytes, as pure functions (RFC 6455): pushlab's one codec.

Everything here turns values into bytes or bytes into values, with no socket in sight, so it can
be tested, printed and taught without a server. Every part of pushlab that touches WebSocket
bytes uses it: the servers' broadcast (:func:`frame_bytes`) and their protocol rules
(``servers/rfc6455_rules.py``), the handshake explainer and its frame annotations
(``clients/handshake.py``, ``clients/annotate.py``), the bench's raw-socket clients and notebook
02. Like :mod:`pushlab.techniques` it imports only the standard library, so any layer may import it.

Names follow the RFC (``Frame``, ``Opcode``, ``fin``, ``rsv1``..``rsv3``, ``mask``, close codes)
so the RFC can sit beside the code. The ``websockets`` library's sans-I/O ``websockets/frames.py``
is the model and, in the tests, the independent check.

Base framing protocol (§5.2)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-------+-+-------------+-------------------------------+
    |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    | |1|2|3|       |K|             |                               |
    +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    |     Extended payload length continued, if payload len == 127  |
    + - - - - - - - - - - - - - - - +-------------------------------+
    |                               |Masking-key, if MASK set to 1  |
    +-------------------------------+-------------------------------+
    | Masking-key (continued)       |          Payload Data         |
    +-------------------------------- - - - - - - - - - - - - - - - +
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""The fixed string of §1.3 that the server appends to the client's key."""

VERSION = 13
"""``Sec-WebSocket-Version`` of RFC 6455 (§4.1; §4.4 for a server that speaks another)."""


class ProtocolError(ValueError):
    """Bytes that break RFC 6455 (the text says which rule)."""


class Opcode(enum.IntEnum):
    """§5.2 "Opcode" (4 bits); §11.8 registers the values."""

    CONT = 0x0  # continuation frame
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        """§5.5: opcodes whose most significant bit is 1 are control frames."""
        return bool(self & 0x8)


class CloseCode(enum.IntEnum):
    """§7.4.1 "Defined Status Codes", and 1012–1014 that the IANA registry (§11.7) added."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005  # never on the wire: "no code was present" (§7.1.5)
    ABNORMAL_CLOSURE = 1006  # never on the wire: "closed without a Close frame" (§7.1.5)
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015  # never on the wire: the TLS handshake failed


@dataclass(frozen=True)
class Frame:
    """One frame as the application sees it: payload already unmasked (§5.2, §5.3)."""

    opcode: Opcode
    payload: bytes = b""
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False

    @classmethod
    def text(cls, text: str) -> Frame:
        return cls(Opcode.TEXT, text.encode())

    @classmethod
    def close(cls, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> Frame:
        return cls(Opcode.CLOSE, encode_close_payload(code, reason))


# --- Opening handshake (§4) ---------------------------------------------------------------


def generate_key() -> str:
    """§4.1: "a nonce consisting of a randomly selected 16-byte value ... base64-encoded"."""
    return base64.b64encode(os.urandom(16)).decode()


def is_valid_key(key: str) -> bool:
    """§4.2.1 item 5: a Sec-WebSocket-Key "that, when decoded, is 16 bytes in length"."""
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except (binascii.Error, ValueError):  # ValueError: a key with non-ASCII characters
        return False


@dataclass(frozen=True)
class AcceptSteps:
    """The intermediate values of §4.2.2's Sec-WebSocket-Accept recipe, for teaching."""

    key: str
    guid: str
    concatenated: str
    sha1_digest: bytes
    accept: str

    @property
    def sha1_hex(self) -> str:
        return self.sha1_digest.hex()


def accept_steps(key: str) -> AcceptSteps:
    """§4.2.2 step 5.4: "concatenate [the key] with the GUID ... take the SHA-1 hash of this
    concatenated value ... base64-encode ... this 20-byte hash". The key is used as sent
    (§1.3: leading and trailing whitespace trimmed), not base64-decoded."""
    key = key.strip()
    concatenated = key + GUID
    digest = hashlib.sha1(concatenated.encode()).digest()
    return AcceptSteps(key, GUID, concatenated, digest, base64.b64encode(digest).decode())


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value a server must answer to ``key`` (§4.2.2)."""
    return accept_steps(key).accept


def build_upgrade_request(
    host: str,
    path: str = "/",
    key: str | None = None,
    *,
    origin: str | None = None,
    version: int | str = VERSION,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """The client's opening handshake (§4.1): an HTTP/1.1 GET that asks to switch protocols.

    ``host`` is the Host header value ("127.0.0.1:8003"). Lines end with CRLF and a blank
    line ends the request, as HTTP/1.1 requires. ``key=None`` draws a fresh random key.
    """
    headers = [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", generate_key() if key is None else key),
        ("Sec-WebSocket-Version", str(version)),
    ]
    if origin is not None:
        headers.append(("Origin", origin))
    headers.extend(extra_headers)
    lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class ResponseHead:
    """A server's status line and headers (§4.2.2 for the 101 answer, §4.4 for refusals)."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    raw: bytes

    def header(self, name: str) -> str | None:
        """First value of a header; names are case-insensitive (RFC 9110 §5.1)."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def parse_response_head(data: bytes | bytearray) -> tuple[ResponseHead, int] | None:
    """Split an HTTP/1.1 response head off ``data``: ``(head, consumed)``, or None if the
    blank line that ends it has not arrived yet. Bytes after it are frames (or a body)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    raw = bytes(data[: end + 4])
    status_line, *header_lines = raw[:end].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP response: {status_line!r}")
    headers = []
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line: {line!r}")
        headers.append((name.strip(), value.strip()))
    reason = parts[2] if len(parts) == 3 else ""
    return ResponseHead(int(parts[1]), reason, tuple(headers), raw), end + 4


# --- Framing (§5) ---------------------------------------------------------------------------

FIN = 0x80  # first byte: the final fragment of a message (§5.2 "FIN")
MASK = 0x80  # second byte: the payload is masked (§5.2 "Mask")
LENGTH_16 = 126  # "Payload len" 126: the length follows in 16 bits
LENGTH_64 = 127  # "Payload len" 127: the length follows in 64 bits

_pack_7 = struct.Struct("!BB").pack  # compiled once: the broadcast calls these per message
_pack_16 = struct.Struct("!BBH").pack
_pack_64 = struct.Struct("!BBQ").pack

TEXT_MESSAGE = FIN | Opcode.TEXT
"""0x81, the first byte of a whole text message: FIN set, opcode 1 (§5.2)."""
_SHORT_TEXT_HEADS = tuple(_pack_7(TEXT_MESSAGE, length) for length in range(LENGTH_16))
"""The 2-byte headers of unmasked text messages under 126 bytes, packed once: most pushes."""


def frame_bytes(payload: bytes, first_byte: int = TEXT_MESSAGE, masking_key: bytes = b"") -> bytes:
    """A frame as it goes on the wire (§5.2): the header, the masking key if there is one, and
    the payload, which the caller has already masked with that key (§5.3).

    The header holds the payload length in the smallest form, as §5.2 requires: 7 bits
    (0–125), or 126 then 16 bits (up to 65,535), or 127 then 64 bits. This is the one place
    that writes it. With the defaults the frame is a whole unmasked text message, what a
    server sends (§5.1: "A server MUST NOT mask any frames"): the same bytes for every client,
    so the servers' broadcast calls this once per message and writes the result to every
    socket.
    """
    length = len(payload)
    mask_bit = MASK if masking_key else 0
    if length < LENGTH_16:
        if first_byte == TEXT_MESSAGE and not mask_bit:
            return _SHORT_TEXT_HEADS[length] + payload
        head = _pack_7(first_byte, mask_bit | length)
    elif length < 65536:
        head = _pack_16(first_byte, mask_bit | LENGTH_16, length)
    else:
        head = _pack_64(first_byte, mask_bit | LENGTH_64, length)
    return head + masking_key + payload if masking_key else head + payload


def apply_mask(data: bytes, masking_key: bytes) -> bytes:
    """§5.3: "octet i of the transformed data is the XOR of octet i of the original data
    with octet at index i modulo 4 of the masking key". Masking twice unmasks."""
    if len(masking_key) != 4:
        raise ValueError("a masking key is exactly 4 bytes (§5.3)")
    # XOR as one big integer: fast, and still the same byte-by-byte rule.
    repeated = (masking_key * (len(data) // 4 + 1))[: len(data)]
    masked = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return masked.to_bytes(len(data), "big")


def check_control(opcode: Opcode, fin: bool, length: int) -> None:
    """§5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT
    be fragmented." Known from the header alone, before the payload arrives."""
    if opcode.is_control:
        if length > 125:
            raise ProtocolError("control frame payload must be 125 bytes or less (§5.5)")
        if not fin:
            raise ProtocolError("control frames must not be fragmented (§5.5)")


def encode_frame(frame: Frame, *, mask: bool = False, masking_key: bytes | None = None) -> bytes:
    """Serialize ``frame`` (§5.2). Clients must mask (§5.3: ``mask=True``; a random key is
    drawn unless ``masking_key`` is given); servers must not (§5.1)."""
    check_control(frame.opcode, frame.fin, len(frame.payload))
    first_byte = (
        (FIN if frame.fin else 0)
        | (0x40 if frame.rsv1 else 0)
        | (0x20 if frame.rsv2 else 0)
        | (0x10 if frame.rsv3 else 0)
        | frame.opcode
    )
    if not mask and masking_key is None:
        return frame_bytes(frame.payload, first_byte)
    masking_key = os.urandom(4) if masking_key is None else masking_key
    return frame_bytes(apply_mask(frame.payload, masking_key), first_byte, masking_key)


@dataclass(frozen=True)
class FrameHeader:
    """The fixed part of a frame (§5.2): everything before the payload."""

    fin: bool
    rsv: tuple[bool, bool, bool]
    opcode_value: int  # an int, not an Opcode: the reserved values must be reported too
    mask: bool
    length_field: int  # the 7-bit "Payload len" as sent (0–127)
    length: int
    masking_key: bytes | None
    header_size: int


def header_size(second_byte: int) -> int:
    """How long a header is, read from its second byte (§5.2): 2 bytes, plus 2 or 8 for an
    extended length, plus 4 for the masking key. A streaming reader knows what to wait for."""
    length_field = second_byte & 0x7F
    extended = 2 if length_field == LENGTH_16 else 8 if length_field == LENGTH_64 else 0
    return 2 + extended + (4 if second_byte & MASK else 0)


def read_header(buf: bytes | bytearray) -> FrameHeader | None:
    """The fixed part of §5.2 at the start of ``buf``, or None while it is incomplete.

    Raises ProtocolError for a 64-bit length whose most significant bit is set (§5.2)."""
    if len(buf) < 2 or len(buf) < (size := header_size(buf[1])):
        return None
    first, second = buf[0], buf[1]
    length_field = second & 0x7F
    if length_field == LENGTH_16:
        (length,) = struct.unpack_from("!H", buf, 2)
    elif length_field == LENGTH_64:
        (length,) = struct.unpack_from("!Q", buf, 2)
        if length >> 63:
            raise ProtocolError("64-bit payload length must have its most significant bit 0 (§5.2)")
    else:
        length = length_field
    mask = bool(second & MASK)
    return FrameHeader(
        fin=bool(first & FIN),
        rsv=(bool(first & 0x40), bool(first & 0x20), bool(first & 0x10)),
        opcode_value=first & 0x0F,
        mask=mask,
        length_field=length_field,
        length=length,
        masking_key=bytes(buf[size - 4 : size]) if mask else None,
        header_size=size,
    )


def opcode_of(header: FrameHeader) -> Opcode:
    """§5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
    WebSocket Connection_"."""
    try:
        return Opcode(header.opcode_value)
    except ValueError:
        raise ProtocolError(f"reserved opcode {header.opcode_value:#x} (§5.2)") from None


def decode_frame(
    buf: bytes | bytearray, *, max_size: int | None = None
) -> tuple[Frame, int] | None:
    """Parse one frame from the start of ``buf``: ``(frame, bytes consumed)``, or None when
    more bytes are needed. Masked or not, the returned payload is the unmasked data (§5.3).

    Raises ProtocolError for an unknown opcode (§5.2), a malformed control frame (§5.5) or a
    payload over ``max_size``. RSV bits are reported, not judged: whether they are allowed
    depends on the extensions negotiated (§5.2), which is the caller's knowledge.
    """
    header = read_header(buf[:14])  # 14: the longest header (2 + 8 + 4)
    if header is None:
        return None
    opcode = opcode_of(header)
    check_control(opcode, header.fin, header.length)
    if max_size is not None and header.length > max_size:
        raise ProtocolError(f"payload of {header.length} bytes exceeds max_size {max_size}")
    end = header.header_size + header.length
    if len(buf) < end:
        return None
    payload = bytes(buf[header.header_size : end])
    if header.masking_key is not None:
        payload = apply_mask(payload, header.masking_key)
    return Frame(opcode, payload, header.fin, *header.rsv), end


# --- Closing (§5.5.1, §7) -----------------------------------------------------------------


SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)})
"""§7.4.1–§7.4.2: the codes an endpoint may put in a Close frame. 1004 is reserved; 1005, 1006
and 1015 "MUST NOT be set as a status code in a Close control frame by an endpoint"; below 1000
nothing is used, 1016–2999 are kept for the RFC and its extensions (the IANA registry assigned
1012–1014), 3000–3999 are for libraries and frameworks, 4000–4999 for applications, and nothing
from 5000 up."""


def close_code_may_be_sent(code: int) -> bool:
    """Whether ``code`` is one of :data:`SENDABLE_CLOSE_CODES` (§7.4)."""
    return code in SENDABLE_CLOSE_CODES


def encode_close_payload(code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> bytes:
    """§5.5.1: a close frame's body is a 2-byte status code (network order) then UTF-8 text."""
    if not close_code_may_be_sent(code):
        raise ProtocolError(f"close code {code} must not be sent in a Close frame (§7.4)")
    payload = struct.pack("!H", code) + reason.encode()
    if len(payload) > 125:
        raise ProtocolError("close reason too long: a control frame holds 125 bytes (§5.5)")
    return payload


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """``(code, reason)`` of a close frame; an empty body means 1005 "no status" (§7.1.5).

    The code is reported, not judged: :func:`close_code_may_be_sent` says whether the peer
    was allowed to send it (a server fails the connection when not, §7.4)."""
    if not payload:
        return CloseCode.NO_STATUS_RCVD, ""
    if len(payload) == 1:
        raise ProtocolError("close frame body of 1 byte: the status code needs 2 (§5.5.1)")
    (code,) = struct.unpack("!H", payload[:2])
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError:
        raise ProtocolError("close reason is not valid UTF-8 (§5.5.1)") from None
    return code, reason
