"""clients.narration and clients.i18n: how exchanges and summaries are printed."""

from __future__ import annotations

import io

from pushlab.clients.i18n import English, format_ms, texts
from pushlab.clients.narration import Narrator, Summary, wants_colour
from pushlab.techniques import TECHNIQUES


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_polling_lines_read_as_the_issue_shows_them():
    en = texts("en")
    assert en.poll_request("/poll?since=41") == "GET /poll?since=41"
    assert en.poll_answer(200, en.messages([], []), 1) == "200, 0 messages (nothing new)"
    assert (
        en.poll_answer(200, en.messages([42], [480.2]), 0) == "200, 1 message #42 (latency 480 ms)"
    )


def test_several_messages_are_one_line_with_their_id_and_latency_ranges():
    assert (
        English().messages([42, 43, 44], [12, 30, 480]) == "3 messages #42–#44 (latency 12–480 ms)"
    )


def test_the_chinese_server_loses_patience_as_in_the_article():
    zh = texts("zh")
    replies = [zh.poll_answer(200, zh.messages([], []), streak) for streak in (1, 2, 3, 4)]
    assert replies[0].startswith("服务端：没有")
    assert "你好烦啊" in replies[2] and "你好烦啊" in replies[3]
    assert "有啦给你" in zh.poll_answer(200, zh.messages([1], [3.0]), 0)
    assert "有没有新信息" in zh.poll_request("/poll?since=0")


def test_milliseconds_keep_the_precision_a_person_reads():
    assert [format_ms(v) for v in (0.4213, 3.14159, 480.4)] == ["0.42", "3.1", "480"]


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_colour(FakeTerminal())
    assert not wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour(FakeTerminal())


def test_plain_output_has_no_escape_codes_and_colour_output_has():
    plain, coloured = io.StringIO(), FakeTerminal()
    Narrator(plain, English()).sent("GET /poll?since=0")
    Narrator(coloured, English(), colour=True).sent("GET /poll?since=0")
    assert "\x1b[" not in plain.getvalue() and "→ GET /poll?since=0" in plain.getvalue()
    assert "\x1b[36m" in coloured.getvalue()


def test_the_summary_names_where_bytes_were_counted():
    out = io.StringIO()
    summary = Summary(
        "polling",
        "http://h:1",
        requests_sent=3,
        empty_answers=2,
        messages=1,
        bytes_sent=600,
        bytes_received=900,
        bytes_counted="counted at this client's socket",
        latencies_ms=[10.0, 30.0],
        stopped_by="count",
    )
    Narrator(out, English()).summary(summary)
    text = out.getvalue()
    assert "requests sent     3" in text and "empty answers     2" in text
    assert "counted at this client's socket" in text
    assert "mean 20 ms, max 30 ms" in text
    assert "stopped: --count reached" in text


def test_a_coloured_summary_is_painted_in_the_technique_colour_of_the_table():
    out = io.StringIO()
    Narrator(out, English(), colour=True).summary(Summary("websocket", "http://127.0.0.1:8003"))
    red, green, blue = (int(TECHNIQUES["websocket"].colour[i : i + 2], 16) for i in (1, 3, 5))
    assert f"\x1b[1;38;2;{red};{green};{blue}msummary: websocket" in out.getvalue()


def test_a_restarted_server_is_said_to_have_lost_the_old_feed_after_the_cursor():
    assert "messages of the old feed after #41, if there were any, are lost" in (
        texts("en").server_restarted(41)
    )
    assert "#41 之后的消息（如果有的话）已经丢失" in texts("zh").server_restarted(41)
