"""A WebSocket frame's bytes taken apart for a reader: every field, its bits, what it says.

``pushlab.rfc6455`` is the protocol (bytes to frames and back); this module is the teaching
layer on top, used by ``python -m pushlab.clients handshake`` and notebook 02. It reads a
frame with the protocol's own ``read_header``, so the explanation cannot drift from the
parser (RFC 6455 §5.2 "Base Framing Protocol").
"""

from __future__ import annotations

from dataclasses import dataclass

from pushlab.rfc6455 import (
    CloseCode,
    FrameHeader,
    Opcode,
    ProtocolError,
    apply_mask,
    parse_close_payload,
    read_header,
)

__all__ = ["Field", "annotate_frame", "describe_payload", "format_annotation"]


@dataclass(frozen=True)
class Field:
    """One field of a frame on the wire: its bytes (hex), its bits where it is a bit field,
    and what it says."""

    name: str
    hex: str
    bits: str
    meaning: str


def describe_payload(opcode: Opcode | None, payload: bytes) -> str:
    """What an (unmasked) payload says: a close code and reason, UTF-8 text, or its size."""
    if opcode is Opcode.CLOSE:
        code, reason = parse_close_payload(payload)
        try:
            name = CloseCode(code).name
        except ValueError:
            name = "application-defined" if code >= 3000 else "unregistered"
        return f"close code {code} ({name})" + (f", reason {reason!r}" if reason else "")
    if opcode is Opcode.TEXT:
        try:
            return f"UTF-8 text {payload.decode()!r}"
        except UnicodeDecodeError:
            return "invalid UTF-8 (a text frame must be UTF-8, §5.6)"
    return f"{len(payload)} bytes of data" if payload else "empty"


def _opcode(header: FrameHeader) -> tuple[Opcode | None, str]:
    try:
        opcode = Opcode(header.opcode_value)
    except ValueError:
        return None, f"{header.opcode_value:#x} = reserved: the receiver must fail (§5.2)"
    meaning = f"{header.opcode_value:#x} = {opcode.name}"
    return opcode, meaning + (" (control frame)" if opcode.is_control else "")


def _bit_fields(header: FrameHeader, first: int, second: int, opcode_meaning: str) -> list[Field]:
    """FIN, RSV1-3 and opcode (the first byte), MASK (the top bit of the second)."""
    rsv_meaning = (
        "no extension in use"
        if not any(header.rsv)
        else "set: meaningful only with a negotiated extension (e.g. RSV1 = permessage-deflate)"
    )
    fin_meaning = "final fragment of the message" if header.fin else "more fragments follow"
    mask_meaning = (
        "payload is masked (client → server)"
        if header.mask
        else "payload not masked (server → client)"
    )
    return [
        Field("FIN", f"{first:02x}", f"{first >> 7:b}", fin_meaning),
        Field("RSV1-3", f"{first:02x}", f"{(first >> 4) & 0b111:03b}", rsv_meaning),
        Field("opcode", f"{first:02x}", f"{first & 0x0F:04b}", opcode_meaning),
        Field("MASK", f"{second:02x}", f"{second >> 7:b}", mask_meaning),
    ]


def _length_fields(header: FrameHeader, data: bytes) -> list[Field]:
    """The 7-bit payload length and, for 126 or 127, the 16- or 64-bit length after it."""
    second, bits = data[1], f"{header.length_field:07b}"
    if header.length_field <= 125:
        meaning = f"{header.length} bytes (7-bit form, 0–125)"
        return [Field("payload len", f"{second:02x}", bits, meaning)]
    size = 2 if header.length_field == 126 else 8
    form = "16-bit" if size == 2 else "64-bit"
    return [
        Field(
            "payload len",
            f"{second:02x}",
            bits,
            f"{header.length_field}: the real length follows in {size * 8} bits",
        ),
        Field(f"extended len ({form})", data[2 : 2 + size].hex(" "), "", f"{header.length} bytes"),
    ]


def _payload_fields(header: FrameHeader, data: bytes, opcode: Opcode | None) -> list[Field]:
    """The masking key and the payload as sent, then unmasked (§5.3), or the bare payload."""
    start = header.header_size
    payload = data[start : start + header.length]
    if header.masking_key is None:
        return [Field("payload", payload.hex(" "), "", describe_payload(opcode, payload))]
    unmasked = apply_mask(payload, header.masking_key)
    return [
        Field(
            "masking key",
            header.masking_key.hex(" "),
            "",
            "XOR key for the payload, chosen at random per frame (§5.3)",
        ),
        Field("payload (masked)", payload.hex(" "), "", "as it travels on the wire"),
        Field("payload (unmasked)", unmasked.hex(" "), "", describe_payload(opcode, unmasked)),
    ]


def annotate_frame(data: bytes) -> list[Field]:
    """Every field of the frame at the start of ``data`` with its bytes and meaning (§5.2).

    Raises ProtocolError if ``data`` does not hold a complete frame.
    """
    header = read_header(data)
    if header is None or len(data) < header.header_size + header.length:
        raise ProtocolError("incomplete frame")
    opcode, opcode_meaning = _opcode(header)
    return [
        *_bit_fields(header, data[0], data[1], opcode_meaning),
        *_length_fields(header, data),
        *_payload_fields(header, data, opcode),
    ]


def format_annotation(fields: list[Field], indent: str = "  ", max_hex_chars: int = 72) -> str:
    """``annotate_frame``'s fields as aligned lines for a terminal."""
    lines = []
    for field in fields:
        hex_text = (
            field.hex if len(field.hex) <= max_hex_chars else field.hex[: max_hex_chars - 1] + "…"
        )
        bits = f" [{field.bits}]" if field.bits else ""
        lines.append(f"{indent}{field.name:<22}{hex_text}{bits}  → {field.meaning}")
    return "\n".join(lines)
