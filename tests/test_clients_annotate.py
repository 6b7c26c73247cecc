"""clients.annotate: a frame's bytes named field by field, read with the codec's own parser."""

from __future__ import annotations

import pytest

from pushlab.clients.annotate import annotate_frame
from pushlab.rfc6455 import Frame, Opcode, ProtocolError, encode_frame


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
