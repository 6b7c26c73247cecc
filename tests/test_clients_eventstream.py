"""clients.eventstream: text/event-stream lines in, events out (WHATWG HTML §9.2.6)."""

from __future__ import annotations

from pushlab.clients.eventstream import Comment, Event, EventStreamDecoder, Retry, read_event


def feed_all(lines: list[str]) -> list[object]:
    decoder = EventStreamDecoder()
    return [item for line in lines if (item := decoder.feed(line)) is not None]


def test_a_blank_line_dispatches_the_event_with_its_id():
    assert feed_all(["id: 42", 'data: {"id":42}', ""]) == [Event('{"id":42}', "message", "42")]


def test_data_lines_are_joined_with_newlines():
    assert feed_all(["data: one", "data: two", ""]) == [Event("one\ntwo")]


def test_retry_and_comments_are_reported():
    assert feed_all(["retry: 2000", "", ": keep-alive", ""]) == [
        Retry(2000),
        Comment(": keep-alive"),
    ]


def test_the_last_event_id_carries_over_to_later_events():
    events = feed_all(["id: 7", "data: a", "", "data: b", ""])
    assert [e.last_event_id for e in events] == ["7", "7"]


def test_crlf_line_endings_and_a_missing_space_after_the_colon_are_accepted():
    assert feed_all(["data:x\r\n", "\r\n"]) == [Event("x")]


def test_a_blank_line_without_data_dispatches_nothing():
    assert feed_all(["event: ping", "", ""]) == []


def test_unknown_fields_and_bad_retry_values_are_ignored():
    assert feed_all(["foo: bar", "retry: soon", "data: x", ""]) == [Event("x")]


def test_read_event_counts_the_bytes_of_every_line_up_to_the_event_it_completes():
    lines = iter([b": keep-alive\n", b"id: 7\n", b"data: x\n", b"\n", b"data: y\n", b"\n"])
    decoder = EventStreamDecoder()
    assert read_event(decoder, lambda: next(lines)) == (Event("x", last_event_id="7"), 28)
    assert read_event(decoder, lambda: next(lines)) == (Event("y", last_event_id="7"), 9)
