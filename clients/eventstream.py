"""Reading ``text/event-stream`` line by line (WHATWG HTML, "Server-sent events", §9.2.6
"Interpreting an event stream"), as a pure decoder: lines in, events out.

A blank line dispatches the event collected so far; ``data:`` lines accumulate (joined by
newlines); ``id:`` sets the last event ID; ``retry:`` the reconnection time; a line starting
with ``:`` is a comment. The decoder also reports ``retry`` and comments, which a browser
keeps to itself, because the terminal client wants to show them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    data: str
    event_type: str = "message"
    last_event_id: str = ""


@dataclass(frozen=True)
class Retry:
    retry_ms: int


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass
class EventStreamDecoder:
    """Feed it one line at a time (without its line ending); it returns what that line made."""

    last_event_id: str = ""
    _data: list[str] = field(default_factory=list)
    _event_type: str = ""

    def feed(self, line: str) -> Event | Retry | Comment | None:
        line = line.removesuffix("\n").removesuffix("\r")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return Comment(line)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            return Retry(int(value))
        return None  # unknown fields are ignored, as the spec says

    def _dispatch(self) -> Event | None:
        if not self._data:
            self._event_type = ""
            return None
        event = Event("\n".join(self._data), self._event_type or "message", self.last_event_id)
        self._data, self._event_type = [], ""
        return event


def read_event(decoder: EventStreamDecoder, next_line: Callable[[], bytes]) -> tuple[Event, int]:
    """Read lines until one completes an event: the event, and the bytes its lines took
    (``next_line``: the stream's next line with its end). Comments, ``retry:`` and ``id:`` lines
    carry no message; their bytes count toward the event that follows them."""
    size_bytes = 0
    while True:
        line = next_line()
        size_bytes += len(line)
        decoded = decoder.feed(line.decode())
        if isinstance(decoded, Event):
            return decoded, size_bytes
