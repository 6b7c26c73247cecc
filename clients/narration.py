"""How a conversation is shown: one timestamped line per exchange, and the summary at the end.

All four terminal clients print through one ``Narrator`` and sum up in one ``Summary``, so
what differs between them is only what they say, never how it is laid out or counted. Each
line also says what kind of exchange it is (``request``, ``response``, ``push``, ``upgrade``,
``stream-open``, ``info``; after a break ``break``, ``resume``, ``gap``) and which messages
it carried: the printing narrator lays lines out by it, and the bench's tracer records the
same calls as a sequence diagram.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from pushlab.clients.i18n import English
from pushlab.techniques import TECHNIQUES

Messages = Sequence[dict[str, Any]]
"""The messages an exchange carried, as the server's JSON (``id``, ``ts``, ``text``)."""

ANSI = {
    "sent": "36",  # cyan: what the client sends
    "news": "32",  # green: an answer that carried messages
    "empty": "33",  # yellow: an answer with nothing new
    "info": "35",  # magenta: protocol housekeeping (101, retry, comments, close)
    "time": "2",  # dim
    "title": "1",  # bold
}


def technique_style(name: str) -> str:
    """Bold in the technique's colour of ``pushlab.techniques`` (24-bit ANSI), so a summary is
    painted as its technique is on the page and in the plots; plain bold for an unknown name."""
    entry = TECHNIQUES.get(name)
    if entry is None:
        return ANSI["title"]
    red, green, blue = (int(entry.colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"1;38;2;{red};{green};{blue}"


def wants_colour(out: TextIO) -> bool:
    """Colour only for a person at a terminal: not when piped, not when NO_COLOR is set
    (https://no-color.org: any non-empty value)."""
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


@dataclass
class Summary:
    """What a conversation cost and delivered. Bytes are counted at the client's socket."""

    technique: str
    url: str
    requests_sent: int = 0
    empty_answers: int = 0
    messages: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    bytes_counted: str = ""
    check_bytes_sent: int = 0  # the /healthz and /stats look-ups before the conversation
    check_bytes_received: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    stopped_by: str = ""  # "count", "interrupted", "server closed" or "error"
    error: str | None = None
    last_id: int = 0
    reconnects: int = 0  # breaks mended by reconnecting (clients.reconnect)
    from_history: int = 0  # messages that came back from the server's history after a break
    messages_gone: int = 0  # messages the server said it no longer held (gap signals)

    @property
    def mean_latency_ms(self) -> float | None:
        return statistics.fmean(self.latencies_ms) if self.latencies_ms else None

    @property
    def max_latency_ms(self) -> float | None:
        return max(self.latencies_ms) if self.latencies_ms else None


class Narrator:
    """Writes ``+1.234s → GET /poll?since=41`` lines, flushed at once (a pipe sees them live)."""

    def __init__(self, out: TextIO, texts: English, colour: bool | None = None) -> None:
        self.out = out
        self.texts = texts
        self.colour = wants_colour(out) if colour is None else colour
        self.started = time.monotonic()

    def paint(self, text: str, style: str) -> str:
        """``text`` in ``style``: a name in ``ANSI`` or an SGR code such as ``1;38;2;0;114;178``."""
        return f"\x1b[{ANSI.get(style, style)}m{text}\x1b[0m" if self.colour else text

    def write(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def line(self, arrow: str, text: str, style: str) -> None:
        stamp = self.paint(f"+{time.monotonic() - self.started:7.3f}s", "time")
        self.write(f"{stamp} {self.paint(f'{arrow} {text}', style)}")

    def sent(self, text: str, kind: str = "request") -> None:
        """The client sends ``text``: a ``request``, or ``info`` (a close frame)."""
        self.exchange("→", text, "sent", kind, ())

    def received(
        self,
        text: str,
        style: str = "news",
        *,
        kind: str = "info",
        messages: Messages = (),
    ) -> None:
        """The server sends ``text``, a ``kind`` of exchange carrying ``messages`` (their JSON)."""
        self.exchange("←", text, style, kind, messages)

    def exchange(self, arrow: str, text: str, style: str, kind: str, messages: Messages) -> None:
        """Every line goes through here: a narrator that shows lines differently overrides it."""
        self.line(arrow, text, style)

    def summary(self, summary: Summary) -> None:
        t = self.texts
        rows = [
            (t.labels["requests"], f"{summary.requests_sent:,}"),
            (t.labels["empty"], f"{summary.empty_answers:,}"),
            (t.labels["messages"], f"{summary.messages:,}"),
            (
                t.labels["bytes_sent"],
                f"{summary.bytes_sent:,}  {t.bytes_note(summary.bytes_counted)}",
            ),
            (t.labels["bytes_received"], f"{summary.bytes_received:,}"),
            (t.labels["latency"], t.latency_value(summary.mean_latency_ms, summary.max_latency_ms)),
        ]
        if summary.reconnects or summary.messages_gone:
            rows += [
                (t.labels["reconnects"], f"{summary.reconnects:,}"),
                (t.labels["from_history"], f"{summary.from_history:,}"),
                (t.labels["gone"], f"{summary.messages_gone:,}"),
            ]
        title = t.summary_title(
            summary.technique, summary.url, summary.elapsed_s, summary.stopped_by
        )
        self.write("")
        self.write(self.paint(title, technique_style(summary.technique)))
        width = max(_display_width(label) for label, _ in rows)
        for label, value in rows:
            padding = " " * (width - _display_width(label))
            self.write(f"  {label}{padding}  {value}")


def _display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)
