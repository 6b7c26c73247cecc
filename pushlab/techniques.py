"""The one table of facts about the techniques pushlab compares.

Every layer reads it — servers (ports, paths, defaults), terminal clients (colours, labels),
the classroom page (through ``/api/config``), the bench (which techniques hold requests or
push), the plots and the notebooks (colours, labels, markers) — so a fact is written once.
Adding a technique is one entry here (and its constant, like ``WEBSOCKET``), then a row in each
per-technique table: its server, its Locust user, its terminal talker and its one-line help,
its slow consumer's session if it pushes, and the page's client (``servers/static/``).
``tests/test_techniques_registries.py`` lists those tables and says which lack the row.

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

LONGPOLL_MAX_HOLD_S = 120.0
"""The longest hold a client may ask for. Above nginx's default ``proxy_read_timeout`` (60 s)
on purpose: the bench's proxy sweep holds a long poll for 90 s to measure where a default proxy
cuts it (``pushlab/proxy_profiles.py``); the default hold stays at ``LONGPOLL_HOLD_S``."""

NETWORK_TIMEOUT_MARGIN_S = 10.0
"""A client waiting for a held answer gives up this long after the hold it asked for."""

POLL_INTERVAL_S = 1.0
"""How often a polling client asks, unless told otherwise."""

CLOSED_LOOP_S = 0.0
"""A poll interval of 0: each client asks again the moment its answer arrives (a closed loop),
so the request rate is whatever the server and the load generator can sustain. Only the
bench's saturation sweep uses it; the page, the terminal client and ``--intervals`` do not."""

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


POLLING = Technique(
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
)

LONGPOLL = Technique(
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
)

WEBSOCKET = Technique(
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
)

SSE = Technique(
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
)

TECHNIQUES: dict[str, Technique] = {
    technique.name: technique for technique in (POLLING, LONGPOLL, WEBSOCKET, SSE)
}
"""Every entry by its name. Code that means one technique imports its constant (``WEBSOCKET``)
and never types its name: ``tests/test_techniques_literals.py`` holds every module to that."""

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
        peer = PEERS.get(name)
        return name if peer is None else peer.label
    known_interval = poll_interval_s is not None and poll_interval_s == poll_interval_s  # not NaN
    if not (entry.polls and known_interval):
        return entry.label
    if poll_interval_s == CLOSED_LOOP_S:
        return f"{entry.label}, closed loop"
    return f"{entry.label} every {poll_interval_s:g} s"


# --- Peers (issue 14) ---------------------------------------------------------------------
# Other people's servers, measured in the same bench so that pushlab's figures can be read
# against what is deployed (python-socketio, aiohttp-sse, the websockets library) and against
# the simplest correct code (the textbook broadcast loop, and a constant empty poll answer).
# They are not techniques: each one *compares with* one of the four, and behaves like it (its
# clients poll, hold or are pushed).


@dataclass(frozen=True)
class Peer:
    """A server that is not pushlab's, and the pushlab technique it is measured against."""

    name: str  # as in file names, CLI arguments and summary.csv
    label: str  # how titles and sentences name it
    compares_with: str  # the pushlab technique it does the same job as
    shade: str  # a grey: peers are drawn beside the four colours, never in them
    marker: str
    path: str  # the route its clients use
    family: str = "peer"
    # False for a reference that only ever answers "nothing new" (baseline-polling): the bench
    # measures it where nothing is published (the saturation sweep), never where messages
    # must arrive.
    delivers: bool = True

    @property
    def technique(self) -> Technique:
        """The entry whose behaviour flags (polls, holds_request, pushes) this peer shares."""
        return TECHNIQUES[self.compares_with]


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer(
            "baseline-websocket", "textbook WebSocket loop", WEBSOCKET.name, "#202020", "^", "/ws"
        ),
        Peer(
            "websockets-broadcast", "websockets.broadcast()", WEBSOCKET.name, "#505050", "v", "/ws"
        ),
        Peer(
            "socketio-websocket",
            "Socket.IO (WebSocket)",
            WEBSOCKET.name,
            "#7a7a7a",
            "<",
            "/socket.io/",
        ),
        Peer(
            "socketio-default",
            "Socket.IO (polling → upgrade)",
            WEBSOCKET.name,
            "#9a9a9a",
            ">",
            "/socket.io/",
        ),
        Peer(
            "socketio-polling",
            "Socket.IO (long polling)",
            LONGPOLL.name,
            "#b0b0b0",
            "s",
            "/socket.io/",
        ),
        Peer("aiohttp-sse", "aiohttp-sse", SSE.name, "#888888", "D", "/events"),
        Peer(
            "starlette-websocket",
            "Starlette WebSocket (uvicorn)",
            "websocket",
            "#606060",
            "P",
            "/ws",
        ),
        Peer("sse-starlette", "sse-starlette (uvicorn)", "sse", "#686868", "d", "/events"),
        Peer("picows", "picows", "websocket", "#404040", "X", "/ws"),
        Peer("tornado-longpoll", "Tornado long polling", "longpoll", "#a0a0a0", "h", "/poll"),
        Peer("node-ws", "Node.js ws", "websocket", "#303030", "*", "/ws"),
        Peer(
            "node-socketio",
            "Node.js Socket.IO (polling → upgrade)",
            "websocket",
            "#8a8a8a",
            "p",
            "/socket.io/",
        ),
        Peer(
            "baseline-polling",
            "bare aiohttp poll handler",
            POLLING.name,
            "#383838",
            "o",
            "/poll",
            delivers=False,
        ),
    )
}

PEER_NAMES: tuple[str, ...] = tuple(PEERS)

DELIVERING_PEERS: tuple[str, ...] = tuple(name for name, peer in PEERS.items() if peer.delivers)
"""The peers that deliver the feed's messages: the ones the clients, rate and interval sweeps
run."""

FAMILY_PUSHLAB = "pushlab"
FAMILY_PEER = "peer"


def family(name: str) -> str:
    """``"pushlab"`` for one of the four techniques, ``"peer"`` for a peer."""
    return FAMILY_PEER if name in PEERS else FAMILY_PUSHLAB


def behaviour(name: str) -> Technique:
    """The technique entry whose flags a server named ``name`` shares: its own for one of the
    four, the one it compares with for a peer; a ``ValueError`` listing every name else."""
    if name in PEERS:
        return PEERS[name].technique
    if name in TECHNIQUES:
        return TECHNIQUES[name]
    raise ValueError(
        f"unknown technique or peer {name!r}; choose one of {', '.join((*NAMES, *PEER_NAMES))}"
    )
