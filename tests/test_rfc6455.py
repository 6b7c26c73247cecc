"""pushlab.rfc6455, the one codec: the handshake arithmetic and the framing, checked against
RFC 6455's own examples and against an independent implementation (the ``websockets``
library's sans-I/O frame parser and protocol)."""

from __future__ import annotations

import os

import pytest
from websockets.exceptions import ProtocolError as WsProtocolError
from websockets.frames import Close as WsClose
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from pushlab.rfc6455 import (
    SENDABLE_CLOSE_CODES,
    CloseCode,
    Frame,
    Opcode,
    ProtocolError,
    accept_key,
    accept_steps,
    apply_mask,
    build_upgrade_request,
    close_code_may_be_sent,
    decode_frame,
    encode_close_payload,
    encode_frame,
    frame_bytes,
    generate_key,
    header_size,
    is_valid_key,
    parse_close_payload,
    parse_response_head,
    read_header,
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


@pytest.mark.parametrize("length", LENGTHS)
def test_websockets_parses_the_servers_text_frame_from_frame_bytes(length):
    payload = b"x" * length
    theirs = parse_with_websockets(frame_bytes(payload), mask=False)
    assert (theirs.opcode, bytes(theirs.data), theirs.fin) == (WsOpcode.TEXT, payload, True)


@pytest.mark.parametrize(
    ("code", "reason"), [(1000, ""), (1001, "server shutting down"), (4001, '{"gap": 1}')]
)
def test_close_payloads_agree_with_websockets_both_ways(code, reason):
    assert WsClose.parse(encode_close_payload(code, reason)) == WsClose(code, reason)
    assert parse_close_payload(WsClose(code, reason).serialize()) == (code, reason)


def test_the_codes_that_may_be_sent_are_the_ones_websockets_accepts():
    def websockets_accepts(code: int) -> bool:
        try:
            WsClose(code, "").check()
        except WsProtocolError:
            return False
        return True

    assert {code for code in range(65536) if websockets_accepts(code)} == SENDABLE_CLOSE_CODES


def test_a_control_frame_over_125_bytes_is_refused_by_both_implementations():
    with pytest.raises(WsProtocolError):
        WsFrame(WsOpcode.PING, bytes(126)).serialize(mask=False)
    with pytest.raises(ProtocolError):
        encode_frame(Frame(Opcode.PING, bytes(126)))


def test_a_server_speaking_websockets_accepts_our_upgrade_request_and_we_read_its_answer():
    """The whole opening handshake against websockets' sans-I/O server: our request, its 101,
    our parse of the head and our Accept arithmetic."""
    key = generate_key()
    server = ServerProtocol()
    server.receive_data(build_upgrade_request("127.0.0.1:8003", "/ws?since=0", key))
    [request] = server.events_received()
    assert request.path == "/ws?since=0"
    server.send_response(server.accept(request))
    parsed = parse_response_head(b"".join(server.data_to_send()) + b"\x81\x00")
    assert parsed is not None
    head, _ = parsed
    assert head.status == 101
    assert head.header("Sec-WebSocket-Accept") == accept_key(key)


def test_a_websockets_server_reads_our_masked_frames_and_refuses_unmasked_ones():
    server = ServerProtocol()
    server.receive_data(build_upgrade_request("h", "/", RFC_KEY))
    server.send_response(server.accept(server.events_received()[0]))
    server.data_to_send()
    server.receive_data(encode_frame(Frame.text("up"), mask=True))
    [received] = server.events_received()
    assert (received.opcode, bytes(received.data)) == (WsOpcode.TEXT, b"up")
    server.receive_data(encode_frame(Frame.text("up"), mask=False))
    closing = decode_frame(b"".join(server.data_to_send()))
    assert closing is not None
    assert closing[0].opcode is Opcode.CLOSE
    assert parse_close_payload(closing[0].payload)[0] == CloseCode.PROTOCOL_ERROR  # §5.1


# --- The codec's own pieces ---------------------------------------------------------------


@pytest.mark.parametrize("length", LENGTHS)
def test_frame_bytes_by_default_is_the_encoders_unmasked_text_frame(length):
    payload = os.urandom(length)
    assert frame_bytes(payload) == encode_frame(Frame(Opcode.TEXT, payload))


@pytest.mark.parametrize(
    ("second_byte", "size"),
    [(0x05, 2), (0x85, 6), (126, 4), (0x80 | 126, 8), (127, 10), (0x80 | 127, 14)],
)
def test_header_size_is_known_from_the_second_byte(second_byte, size):
    assert header_size(second_byte) == size


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("mask", [False, True], ids=["unmasked", "masked"])
def test_read_header_waits_for_exactly_the_header(length, mask):
    wire = encode_frame(Frame(Opcode.BINARY, bytes(length)), mask=mask)
    size = header_size(wire[1])
    assert read_header(wire[: size - 1]) is None
    header = read_header(wire[:size])
    assert header is not None
    assert (header.length, header.header_size, header.mask) == (length, size, mask)


def test_a_long_control_frame_is_refused_before_its_payload_arrives():
    with pytest.raises(ProtocolError, match="125"):
        decode_frame(bytes([0x89, 126, 0, 126]))


@pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 1004, 2999, 5000])
def test_a_close_code_that_must_not_be_sent_is_not_encoded(code):
    assert not close_code_may_be_sent(code)
    with pytest.raises(ProtocolError, match="must not be sent"):
        encode_close_payload(code)


def test_a_close_code_is_reported_as_received_even_when_it_should_not_have_been_sent():
    assert parse_close_payload(b"\x03\xee") == (1006, "")


@pytest.mark.parametrize(
    ("key", "valid"),
    [(RFC_KEY, True), ("  " + RFC_KEY + " ", True), ("abc", False), ("é" * 24, False), ("", False)],
)
def test_a_key_is_valid_when_it_decodes_to_16_bytes(key, valid):
    assert is_valid_key(key) is valid
