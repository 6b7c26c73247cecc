"""clients.rfc6455: the handshake arithmetic and the framing, checked against RFC 6455's own
examples and against an independent implementation (the ``websockets`` library's sans-I/O
frame parser)."""

from __future__ import annotations

import os

import pytest
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode
from websockets.streams import StreamReader

from pushlab.clients.annotate import annotate_frame
from pushlab.clients.rfc6455 import (
    CloseCode,
    Frame,
    Opcode,
    ProtocolError,
    accept_key,
    accept_steps,
    apply_mask,
    build_upgrade_request,
    decode_frame,
    encode_close_payload,
    encode_frame,
    generate_key,
    parse_close_payload,
    parse_response_head,
)

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
RFC_MASK = bytes.fromhex("37fa213d")  # the masking key of §5.7's examples
LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000]  # 7-bit, 16-bit and 64-bit forms


# --- Opening handshake ------------------------------------------------------------------


def test_accept_key_of_the_rfc_sample_key():
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_accept_steps_expose_each_intermediate_value():
    steps = accept_steps(RFC_KEY)
    assert steps.concatenated == RFC_KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    assert steps.sha1_hex == "b37a4f2cc0624f1690f64606cf385945b2bec4ea"
    assert len(steps.sha1_digest) == 20
    assert steps.accept == RFC_ACCEPT


def test_the_articles_key_and_accept_come_from_different_handshakes():
    assert accept_key("K8o1cNIxO2pR6inTIDBSgg==") != "GnoYH/ip/ZMh+a5rX5P/YR6e68g="


def test_generated_keys_are_16_random_bytes_in_base64():
    import base64

    keys = {generate_key() for _ in range(10)}
    assert len(keys) == 10
    assert all(len(base64.b64decode(key)) == 16 for key in keys)


def test_upgrade_request_has_the_headers_of_section_4_1_and_ends_with_a_blank_line():
    request = build_upgrade_request("127.0.0.1:8003", "/ws?since=3", RFC_KEY, origin="http://a")
    text = request.decode()
    assert text.startswith("GET /ws?since=3 HTTP/1.1\r\n")
    assert text.endswith("\r\n\r\n") and text.count("\r\n\r\n") == 1
    for line in [
        "Host: 127.0.0.1:8003",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {RFC_KEY}",
        "Sec-WebSocket-Version: 13",
        "Origin: http://a",
    ]:
        assert f"\r\n{line}\r\n" in text


def test_upgrade_request_can_ask_for_another_version():
    assert b"Sec-WebSocket-Version: 8\r\n" in build_upgrade_request("h", "/", RFC_KEY, version=8)


def test_response_head_is_split_from_the_frames_after_it():
    raw = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Accept: " + RFC_ACCEPT.encode() + b"\r\n\r\n\x81\x00"
    )
    parsed = parse_response_head(raw)
    assert parsed is not None
    head, consumed = parsed
    assert (head.status, head.reason) == (101, "Switching Protocols")
    assert head.header("sec-websocket-accept") == RFC_ACCEPT
    assert raw[consumed:] == b"\x81\x00"


def test_response_head_waits_for_the_blank_line():
    assert (
        parse_response_head(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n") is None
    )


def test_response_head_rejects_what_is_not_http():
    with pytest.raises(ProtocolError):
        parse_response_head(b"SSH-2.0-OpenSSH\r\n\r\n")


# --- RFC 6455 §5.7 examples, byte for byte ------------------------------------------------

SECTION_5_7 = [
    ("unmasked text 'Hello'", Frame.text("Hello"), None, "810548656c6c6f"),
    ("masked text 'Hello'", Frame.text("Hello"), RFC_MASK, "818537fa213d7f9f4d5158"),
    ("first fragment 'Hel'", Frame(Opcode.TEXT, b"Hel", fin=False), None, "010348656c"),
    ("last fragment 'lo'", Frame(Opcode.CONT, b"lo"), None, "80026c6f"),
    ("unmasked ping", Frame(Opcode.PING, b"Hello"), None, "890548656c6c6f"),
    ("masked pong", Frame(Opcode.PONG, b"Hello"), RFC_MASK, "8a8537fa213d7f9f4d5158"),
]


@pytest.mark.parametrize(
    ("name", "frame", "key", "wire"), SECTION_5_7, ids=[s[0] for s in SECTION_5_7]
)
def test_encoding_matches_the_rfc_examples(name, frame, key, wire):
    assert encode_frame(frame, masking_key=key).hex() == wire


@pytest.mark.parametrize(
    ("name", "frame", "key", "wire"), SECTION_5_7, ids=[s[0] for s in SECTION_5_7]
)
def test_decoding_the_rfc_examples_gives_the_frames_back(name, frame, key, wire):
    assert decode_frame(bytes.fromhex(wire)) == (frame, len(wire) // 2)


def test_256_bytes_use_the_16_bit_length_form():
    wire = encode_frame(Frame(Opcode.BINARY, bytes(256)))
    assert wire[:4] == bytes.fromhex("827e0100")


def test_64_kib_use_the_64_bit_length_form():
    wire = encode_frame(Frame(Opcode.BINARY, bytes(65536)))
    assert wire[:10] == bytes.fromhex("827f0000000000010000")


# --- Round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("mask", [False, True], ids=["unmasked", "masked"])
def test_round_trip_in_every_length_form(length, mask):
    frame = Frame(Opcode.BINARY, os.urandom(length))
    wire = encode_frame(frame, mask=mask)
    assert decode_frame(wire + b"next") == (frame, len(wire))


@pytest.mark.parametrize(
    "frame",
    [
        Frame.close(CloseCode.NORMAL_CLOSURE, "bye"),
        Frame(Opcode.CLOSE),
        Frame(Opcode.PING, b"x" * 125),
        Frame(Opcode.PONG),
    ],
    ids=["close", "close-empty", "ping-125", "pong"],
)
@pytest.mark.parametrize("mask", [False, True], ids=["unmasked", "masked"])
def test_control_frames_round_trip(frame, mask):
    wire = encode_frame(frame, mask=mask)
    assert decode_frame(wire) == (frame, len(wire))


def test_rsv_bits_survive_a_round_trip():
    frame = Frame(Opcode.TEXT, b"x", rsv1=True, rsv2=False, rsv3=True)
    assert decode_frame(encode_frame(frame))[0] == frame


def test_every_proper_prefix_asks_for_more_bytes():
    wire = encode_frame(Frame(Opcode.BINARY, bytes(300)), mask=True)
    assert all(decode_frame(wire[:cut]) is None for cut in range(len(wire)))


def test_masking_twice_gives_the_data_back():
    data = os.urandom(1001)
    assert apply_mask(apply_mask(data, RFC_MASK), RFC_MASK) == data


# --- What the RFC forbids -------------------------------------------------------------------


def test_reserved_opcode_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="reserved opcode"):
        decode_frame(bytes([0x83, 0x00]))


def test_control_frame_over_125_bytes_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="125"):
        decode_frame(bytes([0x89, 126, 0, 126]) + bytes(126))
    with pytest.raises(ProtocolError):
        encode_frame(Frame(Opcode.PING, bytes(126)))


def test_fragmented_control_frame_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="fragmented"):
        decode_frame(bytes([0x09, 0x00]))


def test_64_bit_length_with_the_top_bit_set_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="most significant bit"):
        decode_frame(bytes([0x82, 127]) + (1 << 63).to_bytes(8, "big"))


def test_payload_over_max_size_is_refused_before_it_arrives():
    with pytest.raises(ProtocolError, match="max_size"):
        decode_frame(bytes([0x82, 126, 0x10, 0x00]), max_size=1024)


def test_close_payload_is_code_then_utf8_reason():
    payload = encode_close_payload(CloseCode.GOING_AWAY, "server shutting down")
    assert payload[:2] == b"\x03\xe9"
    assert parse_close_payload(payload) == (1001, "server shutting down")
    assert parse_close_payload(b"") == (CloseCode.NO_STATUS_RCVD, "")
    with pytest.raises(ProtocolError):
        parse_close_payload(b"\x03")


# --- Cross-check with the websockets library (an independent implementation) -------------


def parse_with_websockets(wire: bytes, mask: bool) -> WsFrame:
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = WsFrame.parse(reader.read_exact, mask=mask)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("websockets wanted more bytes than one whole frame")


CROSS_CHECK_FRAMES = [
    *[Frame(Opcode.BINARY, os.urandom(n)) for n in LENGTHS],
    Frame.text("héllo, 你好"),
    Frame(Opcode.TEXT, b"part", fin=False),
    Frame(Opcode.CONT, b"rest"),
    Frame.close(1000, "bye"),
    Frame(Opcode.PING, b"are you there"),
    Frame(Opcode.PONG, b"are you there"),
]


@pytest.mark.parametrize(
    "frame", CROSS_CHECK_FRAMES, ids=lambda f: f"{f.opcode.name}-{len(f.payload)}"
)
@pytest.mark.parametrize("mask", [False, True], ids=["unmasked", "masked"])
def test_websockets_parses_what_we_encode(frame, mask):
    theirs = parse_with_websockets(encode_frame(frame, mask=mask), mask=mask)
    assert (int(theirs.opcode), bytes(theirs.data), theirs.fin) == (
        int(frame.opcode),
        frame.payload,
        frame.fin,
    )
    assert (theirs.rsv1, theirs.rsv2, theirs.rsv3) == (frame.rsv1, frame.rsv2, frame.rsv3)


@pytest.mark.parametrize(
    "frame", CROSS_CHECK_FRAMES, ids=lambda f: f"{f.opcode.name}-{len(f.payload)}"
)
@pytest.mark.parametrize("mask", [False, True], ids=["unmasked", "masked"])
def test_we_decode_what_websockets_encodes(frame, mask):
    theirs = WsFrame(WsOpcode(int(frame.opcode)), frame.payload, fin=frame.fin)
    wire = theirs.serialize(mask=mask)
    assert decode_frame(wire) == (frame, len(wire))


# --- Annotation ---------------------------------------------------------------------------


def fields_by_name(wire: bytes) -> dict[str, str]:
    return {field.name: field.meaning for field in annotate_frame(wire)}


def test_annotation_of_the_masked_rfc_example_names_every_field():
    fields = annotate_frame(bytes.fromhex("818537fa213d7f9f4d5158"))
    assert [f.name for f in fields] == [
        "FIN",
        "RSV1-3",
        "opcode",
        "MASK",
        "payload len",
        "masking key",
        "payload (masked)",
        "payload (unmasked)",
    ]
    by_name = {f.name: f for f in fields}
    assert by_name["opcode"].bits == "0001" and "TEXT" in by_name["opcode"].meaning
    assert by_name["masking key"].hex == "37 fa 21 3d"
    assert "'Hello'" in by_name["payload (unmasked)"].meaning
    assert "7-bit" in by_name["payload len"].meaning


def test_annotation_shows_the_16_and_64_bit_length_forms():
    assert (
        "300 bytes"
        in fields_by_name(encode_frame(Frame(Opcode.BINARY, bytes(300))))["extended len (16-bit)"]
    )
    assert (
        "65536 bytes"
        in fields_by_name(encode_frame(Frame(Opcode.BINARY, bytes(65536))))["extended len (64-bit)"]
    )


def test_annotation_explains_a_close_frame():
    meaning = fields_by_name(encode_frame(Frame.close(1000)))["payload"]
    assert "1000" in meaning and "NORMAL_CLOSURE" in meaning


def test_annotation_refuses_an_incomplete_frame():
    with pytest.raises(ProtocolError, match="incomplete"):
        annotate_frame(bytes.fromhex("8105486565"))
