"""The one table of facts about the techniques pushlab compares.

Every layer reads it — servers (ports, paths, defaults), terminal clients (colours, labels),
the classroom page (through ``/api/config``), the bench (which techniques hold requests or
push), the plots and the notebooks (colours, labels, markers) — so a fact is written once.
Adding a technique is one entry here plus its server and its Locust user.

The module imports nothing from pushlab and nothing outside the standard library: it is safe
to import anywhere, a Locust process and a notebook kernel included.

Colours are Okabe–Ito ("Color Universal Design", Okabe & Ito 2008): told apart by viewers
with the common colour-vision deficiencies and on washed-out classroom projectors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

LONGPOLL_HOLD_S = 25.0
"""How long a long poll is held when the client names no ``timeout``, and what the terminal
client, the page and the bench ask for. Under the 30 s that proxies commonly allow and well
under Locust's 60 s network timeout (RFC 6202 §5.5 "Timeouts")."""

LONGPOLL_MAX_HOLD_S = 60.0
"""The longest hold a client may ask for."""

POLL_INTERVAL_S = 1.0
"""How often a polling client asks, unless told otherwise."""

DEMO_PORT = 8000
"""The classroom page's port; each technique's own port is in its entry."""


@dataclass(frozen=True)
class Technique:
    """One way of getting news to a browser, and the facts the code branches on."""

    name: str  # the identifier used in URLs, file names, CLI arguments and summary.csv
    label: str  # how it is written in titles and sentences (English)
    label_zh: str  # the same in Chinese (the seed article's language)
    port: int  # default port of its server
    path: str  # the route its clients use
    colour: str  # Okabe–Ito, the same on the page, in plots, notebooks and terminal clients
    marker: str  # matplotlib marker of its points
    polls: bool  # the client asks again on a timer, news or not
    holds_request: bool  # the server parks a request (or a response) until there is news
    pushes: bool  # after one request, the server sends every message unasked
    full_duplex: bool  # the client can send on the same connection at any time

    def as_json(self) -> dict[str, Any]:
        """The entry as the classroom page reads it from ``/api/config``."""
        return asdict(self)


TECHNIQUES: dict[str, Technique] = {
    technique.name: technique
    for technique in (
        Technique(
            name="polling",
            label="polling",
            label_zh="轮询",
            port=8001,
            path="/poll",
            colour="#D55E00",  # vermillion
            marker="o",
            polls=True,
            holds_request=False,
            pushes=False,
            full_duplex=False,
        ),
        Technique(
            name="longpoll",
            label="long polling",
            label_zh="长轮询",
            port=8002,
            path="/poll",
            colour="#CC79A7",  # reddish purple
            marker="s",
            polls=False,
            holds_request=True,
            pushes=False,
            full_duplex=False,
        ),
        Technique(
            name="websocket",
            label="WebSocket",
            label_zh="WebSocket",
            port=8003,
            path="/ws",
            colour="#0072B2",  # blue
            marker="^",
            polls=False,
            holds_request=True,
            pushes=True,
            full_duplex=True,
        ),
        Technique(
            name="sse",
            label="SSE",
            label_zh="SSE（服务器推送事件）",
            port=8004,
            path="/events",
            colour="#009E73",  # bluish green
            marker="D",
            polls=False,
            holds_request=True,
            pushes=True,
            full_duplex=False,
        ),
    )
}

NAMES: tuple[str, ...] = tuple(TECHNIQUES)
"""The techniques in their canonical order: polling, longpoll, websocket, sse."""

PUSHED: tuple[str, ...] = tuple(name for name, t in TECHNIQUES.items() if t.pushes)
"""Techniques whose server sends messages unasked (one transit per message)."""

HELD: tuple[str, ...] = tuple(name for name, t in TECHNIQUES.items() if t.holds_request)
"""Techniques whose clients stay connected between messages (the server counts them)."""


def technique(name: str) -> Technique:
    """The entry for ``name``, or a ``ValueError`` that lists the known names."""
    try:
        return TECHNIQUES[name]
    except KeyError:
        raise ValueError(f"unknown technique {name!r}; choose one of {', '.join(NAMES)}") from None


def label(name: str, poll_interval_s: float | None = None) -> str:
    """``"WebSocket"``, ``"polling every 1 s"``: how one technique (or polling line) is named."""
    entry = TECHNIQUES.get(name)
    if entry is None:
        return name
    known_interval = poll_interval_s is not None and poll_interval_s == poll_interval_s  # not NaN
    return (
        f"{entry.label} every {poll_interval_s:g} s"
        if entry.polls and known_interval
        else entry.label
    )
