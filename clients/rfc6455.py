"""The WebSocket protocol's bytes, as pure functions (RFC 6455): no sockets in this module.

Everything here turns values into bytes or bytes into values, so it can be tested, printed
and taught without a server; ``clients.handshake`` adds the socket, and ``clients.annotate``
explains a frame's bytes field by field. Names follow the RFC
(``Frame``, ``Opcode``, ``fin``, ``rsv1``..``rsv3``, ``mask``, close codes) so the RFC can sit
beside the code. The ``websockets`` library's sans-I/O ``websockets.frames`` is the model and,
in the tests, the independent check.

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
import enum
import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "GUID",
    "AcceptSteps",
    "CloseCode",
    "Frame",
    "FrameHeader",
    "Opcode",
    "ProtocolError",
    "ResponseHead",
    "accept_key",
    "accept_steps",
    "apply_mask",
    "build_upgrade_request",
    "decode_frame",
    "encode_close_payload",
    "encode_frame",
    "generate_key",
    "parse_close_payload",
    "parse_response_head",
    "read_header",
]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
"""The fixed string of §1.3 that the server appends to the client's key."""


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
    """§7.4.1 "Defined Status Codes" (1005 and 1006 are never sent on the wire)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011


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
    version: int | str = 13,
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


def parse_response_head(data: bytes) -> tuple[ResponseHead, int] | None:
    """Split an HTTP/1.1 response head off ``data``: ``(head, consumed)``, or None if the
    blank line that ends it has not arrived yet. Bytes after it are frames (or a body)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    raw = data[: end + 4]
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


def apply_mask(data: bytes, masking_key: bytes) -> bytes:
    """§5.3: "octet i of the transformed data is the XOR of octet i of the original data
    with octet at index i modulo 4 of the masking key". Masking twice unmasks."""
    if len(masking_key) != 4:
        raise ValueError("a masking key is exactly 4 bytes (§5.3)")
    # XOR as one big integer: fast, and still the same byte-by-byte rule.
    repeated = (masking_key * (len(data) // 4 + 1))[: len(data)]
    masked = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return masked.to_bytes(len(data), "big")


def _check_control(frame: Frame) -> None:
    """§5.5: control frames carry at most 125 payload bytes and are never fragmented."""
    if frame.opcode.is_control:
        if len(frame.payload) > 125:
            raise ProtocolError("control frame payload must be 125 bytes or less (§5.5)")
        if not frame.fin:
            raise ProtocolError("control frames must not be fragmented (§5.5)")


def encode_frame(frame: Frame, *, mask: bool = False, masking_key: bytes | None = None) -> bytes:
    """Serialize ``frame`` (§5.2). Clients must mask (§5.3: ``mask=True``; a random key is
    drawn unless ``masking_key`` is given); servers must not. The payload length uses the
    smallest of the three forms, as §5.2 requires: 7 bits (0–125), 16 bits (126), 64 bits (127).
    """
    _check_control(frame)
    if masking_key is not None:
        mask = True
    head = bytearray()
    head.append(
        (0x80 if frame.fin else 0)
        | (0x40 if frame.rsv1 else 0)
        | (0x20 if frame.rsv2 else 0)
        | (0x10 if frame.rsv3 else 0)
        | int(frame.opcode)
    )
    length = len(frame.payload)
    mask_bit = 0x80 if mask else 0
    if length <= 125:
        head.append(mask_bit | length)
    elif length <= 0xFFFF:
        head.append(mask_bit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", length)
    if not mask:
        return bytes(head) + frame.payload
    masking_key = os.urandom(4) if masking_key is None else masking_key
    return bytes(head) + masking_key + apply_mask(frame.payload, masking_key)


@dataclass(frozen=True)
class FrameHeader:
    """The fixed part of a frame (§5.2): everything before the payload."""

    fin: bool
    rsv: tuple[bool, bool, bool]
    opcode_value: int
    mask: bool
    length_field: int  # the 7-bit "Payload len" as sent (0–127)
    length: int
    masking_key: bytes | None
    header_size: int


def read_header(buf: bytes) -> FrameHeader | None:
    """The fixed part of §5.2, or None while it is incomplete."""
    if len(buf) < 2:
        return None
    first, second = buf[0], buf[1]
    mask = bool(second & 0x80)
    length_field = second & 0x7F
    offset = 2
    if length_field == 126:
        if len(buf) < offset + 2:
            return None
        (length,) = struct.unpack_from("!H", buf, offset)
        offset += 2
    elif length_field == 127:
        if len(buf) < offset + 8:
            return None
        (length,) = struct.unpack_from("!Q", buf, offset)
        if length >> 63:
            raise ProtocolError("64-bit payload length must have its most significant bit 0 (§5.2)")
        offset += 8
    else:
        length = length_field
    masking_key = None
    if mask:
        if len(buf) < offset + 4:
            return None
        masking_key = bytes(buf[offset : offset + 4])
        offset += 4
    return FrameHeader(
        fin=bool(first & 0x80),
        rsv=(bool(first & 0x40), bool(first & 0x20), bool(first & 0x10)),
        opcode_value=first & 0x0F,
        mask=mask,
        length_field=length_field,
        length=length,
        masking_key=masking_key,
        header_size=offset,
    )


def decode_frame(
    buf: bytes | bytearray, *, max_size: int | None = None
) -> tuple[Frame, int] | None:
    """Parse one frame from the start of ``buf``: ``(frame, bytes consumed)``, or None when
    more bytes are needed. Masked or not, the returned payload is the unmasked data (§5.3).

    Raises ProtocolError for an unknown opcode (§5.2: "MUST _Fail the WebSocket
    Connection_"), a malformed control frame (§5.5) or a payload over ``max_size``.
    RSV bits are reported, not judged: whether they are allowed depends on the extensions
    negotiated (§5.2), which is the caller's knowledge.
    """
    header = read_header(bytes(buf[:14]))
    if header is None:
        return None
    try:
        opcode = Opcode(header.opcode_value)
    except ValueError:
        raise ProtocolError(f"reserved opcode {header.opcode_value:#x} (§5.2)") from None
    if max_size is not None and header.length > max_size:
        raise ProtocolError(f"payload of {header.length} bytes exceeds max_size {max_size}")
    end = header.header_size + header.length
    if len(buf) < end:
        return None
    payload = bytes(buf[header.header_size : end])
    if header.masking_key is not None:
        payload = apply_mask(payload, header.masking_key)
    frame = Frame(opcode, payload, header.fin, *header.rsv)
    _check_control(frame)
    return frame, end


# --- Closing (§5.5.1, §7) -----------------------------------------------------------------


def encode_close_payload(code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> bytes:
    """§5.5.1: a close frame's body is a 2-byte status code (network order) then UTF-8 text."""
    payload = struct.pack("!H", code) + reason.encode()
    if len(payload) > 125:
        raise ProtocolError("close reason too long: a control frame holds 125 bytes (§5.5)")
    return payload


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """``(code, reason)`` of a close frame; an empty body means 1005 "no status" (§7.1.5)."""
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
