# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: pushlab (.venv)
#     language: python
#     name: pushlab
# ---

# %% [markdown]
# # 02 · The WebSocket handshake and its frames, byte by byte
#
# > **中文摘要**：本笔记本在笔记本内部启动一个 WebSocket 服务器，用 `pushlab/rfc6455.py`
# > 里的纯函数亲手完成握手：一步一步算出 `Sec-WebSocket-Accept`（key + GUID → SHA-1 → base64），
# > 再构造并解码数据帧（7 位、16 位、64 位三种长度写法，以及客户端必须做的掩码）。
# > 最后用服务器的 TCP 连接计数器对比 keep-alive（复用一条连接）和每个请求新建一条连接，
# > 说明 keep-alive 只是省了建连，并不能让服务器主动推送。结束时关闭服务器。

# %% [markdown]
# A WebSocket starts life as an ordinary HTTP/1.1 request that asks to *switch protocols*.
# If the server agrees (status `101`), the same TCP connection stops carrying HTTP and starts
# carrying **frames**, in both directions, for as long as it stays open. This notebook does
# that conversation by hand: no WebSocket library, only a TCP socket and the pure functions of
# `pushlab/rfc6455.py` (each one names the section of
# [RFC 6455](https://www.rfc-editor.org/rfc/rfc6455) it implements — keep the RFC open beside
# it).
#
# First we start a real pushlab WebSocket server, here, inside this notebook's event loop
# (Jupyter runs one, which is why a cell can `await`). Port 0 asks the operating system for any
# free port. The built-in publisher is off (`publish_rate=0`): every message below is one we
# publish ourselves.

# %%
# %matplotlib inline
import asyncio
import io
import json

import pandas as pd
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from pushlab import rfc6455
from pushlab.bench.presentation.style import classroom_style
from pushlab.clients import annotate
from pushlab.clients.handshake import handshake
from pushlab.clients.keepalive import keepalive
from pushlab.rfc6455 import Frame, Opcode
from pushlab.servers.app import FEED, METER, make_app
from pushlab.servers.config import ServerConfig
from pushlab.servers.runner import start

server = await start(make_app("websocket", ServerConfig(publish_rate=0)), port=0)
meter, feed = server.app[METER], server.app[FEED]
print(f"pushlab WebSocket server listening on {server.url}, endpoint {server.url}/ws")
print(f"TCP connections it has accepted so far: {meter.tcp_connections_opened}")

# %% [markdown]
# ## 1. Sec-WebSocket-Accept, step by step (§4.2.2)
#
# The client sends a random 16-byte nonce, base64-encoded, as `Sec-WebSocket-Key`. The server
# must prove it *read* that key and speaks WebSocket (not some HTTP server that happens to
# answer 101), so it answers with `Sec-WebSocket-Accept = base64(SHA-1(key + GUID))`, where
# the GUID is a constant fixed by the RFC. Nothing here is secret: it is a handshake check,
# not security. Here is the RFC's own example key (§1.3), one step per row:


# %%
def accept_table(key: str) -> pd.DataFrame:
    """The intermediate values of the Accept recipe, one row per step."""
    steps = rfc6455.accept_steps(key)
    return pd.DataFrame(
        [
            ("1. the client's key (as sent, not decoded)", steps.key),
            ("2. + the GUID of §1.3", steps.guid),
            ("3. = the concatenated text", steps.concatenated),
            ("4. SHA-1 of its bytes: 20 bytes, in hex", steps.sha1_hex),
            ("5. base64 of those 20 bytes = Sec-WebSocket-Accept", steps.accept),
        ],
        columns=["step", "value"],
    ).style.hide(axis="index")


RFC_EXAMPLE_KEY, RFC_EXAMPLE_ACCEPT = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
display(accept_table(RFC_EXAMPLE_KEY))
assert rfc6455.accept_key(RFC_EXAMPLE_KEY) == RFC_EXAMPLE_ACCEPT  # the value printed in §1.3

# %% [markdown]
# The blog article this lab grew from shows a screenshot with the key `K8o1cNIxO2pR6inTIDBSgg==`
# and the answer `GnoYH/ip/ZMh+a5rX5P/YR6e68g=`. Do they belong together? We do not have to
# trust the screenshot: the recipe decides.

# %%
ARTICLE_KEY, ARTICLE_ACCEPT = "K8o1cNIxO2pR6inTIDBSgg==", "GnoYH/ip/ZMh+a5rX5P/YR6e68g="
article_expected = rfc6455.accept_key(ARTICLE_KEY)
if article_expected == ARTICLE_ACCEPT:
    verdict = "They match: the screenshot shows one request and its own answer."
else:
    verdict = (
        f"They do **not** match: that key's Accept is `{article_expected}`. The screenshots of"
        " the request and of the response must come from two different connections — every"
        " connection draws a fresh random key, so a browser that reconnected between the two"
        " screenshots shows a new pair. A real client would refuse such an answer (§4.1)."
    )
display(Markdown(verdict))

# %% [markdown]
# ## 2. The opening handshake over a bare TCP connection (§4.1, §4.2.2)
#
# `build_upgrade_request` writes the client's request: a `GET` with `Upgrade: websocket`,
# `Connection: Upgrade`, a fresh key and `Sec-WebSocket-Version: 13`. HTTP/1.1 ends every line
# with `\r\n` and the head with an empty line; we print the line ends so you can see them.
# We open the TCP connection ourselves with asyncio, and watch the server's connection counter.


# %%
def show_http(arrow: str, raw: bytes) -> None:
    """HTTP text exactly as it travelled, with each CRLF made visible."""
    for line in raw.decode("latin-1").split("\r\n")[:-1]:
        print(f"{arrow} {line}\\r\\n")


connections_before = meter.tcp_connections_opened
reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
key = rfc6455.generate_key()
request = rfc6455.build_upgrade_request(f"127.0.0.1:{server.port}", "/ws?since=0", key)
writer.write(request)
await writer.drain()
show_http("→", request)

# %% [markdown]
# The server's answer is read until the empty line that ends an HTTP head
# (`parse_response_head`). Everything after that line is no longer HTTP: it is frames.

# %%
received = b""


async def read_more() -> bool:
    """Append what the socket has to ``received``; False once the server closed it."""
    global received
    chunk = await asyncio.wait_for(reader.read(65536), timeout=10)
    received += chunk
    return bool(chunk)


while (parsed := rfc6455.parse_response_head(received)) is None:
    await read_more()
head, consumed = parsed
received = received[consumed:]
show_http("←", head.raw)

# %%
server_accept = head.header("Sec-WebSocket-Accept")
display(accept_table(key))
matches = server_accept == rfc6455.accept_key(key)
display(
    Markdown(
        f"The server answered **{head.status} {head.reason}** with Accept `{server_accept}`: "
        + (
            "it matches our own computation, so the server read our key and the connection "
            "is now a WebSocket."
            if matches
            else "it does NOT match our computation — a client must close the connection."
        )
        + f" The server's `tcp_connections_opened` went from {connections_before} to "
        f"{meter.tcp_connections_opened}: one TCP connection, which this WebSocket will keep."
    )
)
assert head.status == 101 and matches

# %% [markdown]
# ## 3. Frames (§5.2)
#
# Every message is now a **frame**: two bytes of header (FIN, three reserved bits, a 4-bit
# opcode, the MASK bit and a 7-bit payload length), maybe an extended length, maybe a 4-byte
# masking key, then the payload. A client **must** mask every frame it sends (§5.3); a server
# must not. We send the server a chat message as one masked text frame; the server publishes it
# to its feed and pushes it straight back to every connected client — us included.
# `annotate_frame` takes the bytes apart field by field.


# %%
def annotated(raw: bytes, max_hex_chars: int = 60) -> pd.DataFrame:
    """``annotate_frame``'s fields as a table (long payloads shortened for the eye)."""
    rows = [
        {
            "field": field.name,
            "bytes (hex)": field.hex
            if len(field.hex) <= max_hex_chars
            else field.hex[: max_hex_chars - 1] + "…",
            "bits": field.bits,
            "meaning": field.meaning,
        }
        for field in annotate.annotate_frame(raw)
    ]
    return pd.DataFrame(rows).style.hide(axis="index")


async def read_frame() -> tuple[Frame, bytes]:
    """The next whole frame from the server, decoded, with its raw bytes."""
    global received
    while (parsed := rfc6455.decode_frame(received)) is None:
        if not await read_more():
            raise ConnectionError("the server closed the connection")
    frame, size = parsed
    raw, received = received[:size], received[size:]
    return frame, raw


our_payload = json.dumps({"text": "hi from a notebook"})
ours = rfc6455.encode_frame(Frame.text(our_payload), mask=True)
writer.write(ours)
await writer.drain()
print(f"→ our text frame, {len(ours)} bytes: {ours.hex(' ')}")
display(annotated(ours))

# %%
frame, raw = await read_frame()
print(f"← the server's frame, {len(raw)} bytes: {raw.hex(' ')}")
display(annotated(raw))
pushed = json.loads(frame.payload)
display(
    Markdown(
        f"Same text, other direction: the server's frame has MASK = 0, so its header is "
        f"{len(raw) - len(frame.payload)} bytes against {len(ours) - len(our_payload)} for "
        f"ours (the 4-byte masking key). Its payload is the stored message, id "
        f"{pushed['id']}, with the server's publish time `ts`."
    )
)

# %% [markdown]
# ### Three ways to write a length: 7, 16 or 64 bits
#
# The 7-bit field holds lengths 0–125 directly. The value 126 means "the length follows in the
# next 2 bytes" (up to 65,535), and 127 means "in the next 8 bytes". The RFC requires the
# smallest form that fits. We publish three messages of different sizes straight into the
# server's feed and read the frames the server pushes to us.

# %%
texts = {"short": "hello", "medium": "m" * 300, "long": "L" * 70_000}
for text in texts.values():
    await feed.publish(text)
rows = []
for name, text in texts.items():
    frame, raw = await read_frame()
    assert json.loads(frame.payload)["text"] == text
    rows.append(
        {
            "message": name,
            "payload bytes": len(frame.payload),
            "7-bit field": raw[1] & 0x7F,
            "header bytes": len(raw) - len(frame.payload),
            "frame bytes": len(raw),
            "header as % of frame": f"{100 * (len(raw) - len(frame.payload)) / len(raw):.2f}%",
        }
    )
    if name == "long":
        display(annotated(raw))
display(pd.DataFrame(rows).style.hide(axis="index"))

# %% [markdown]
# The RFC prints exact bytes for these cases (§5.7), so our encoder can be checked against the
# standard itself, including a masked frame with the RFC's masking key `37 fa 21 3d`:

# %%
rfc_key = bytes.fromhex("37fa213d")
rfc_examples = [
    ('"Hello", unmasked', Frame.text("Hello"), None, "81 05 48 65 6c 6c 6f"),
    ('"Hello", masked', Frame.text("Hello"), rfc_key, "81 85 37 fa 21 3d 7f 9f 4d 51 58"),
    ("256 bytes binary (header)", Frame(Opcode.BINARY, bytes(256)), None, "82 7e 01 00"),
    (
        "65536 bytes binary (header)",
        Frame(Opcode.BINARY, bytes(65536)),
        None,
        "82 7f 00 00 00 00 00 01 00 00",
    ),
]
checks = []
for name, frame, masking_key, expected in rfc_examples:
    encoded = rfc6455.encode_frame(frame, masking_key=masking_key)
    ours_hex = encoded[: len(bytes.fromhex(expected))].hex(" ")
    checks.append(
        {
            "RFC 6455 §5.7 example": name,
            "our bytes": ours_hex,
            "same as the RFC": ours_hex == expected,
        }
    )
display(pd.DataFrame(checks).style.hide(axis="index"))
assert all(check["same as the RFC"] for check in checks)

# %% [markdown]
# How much does the header cost? It depends only on the payload's length and on who sends
# (a client adds the 4-byte masking key). Drawn for every payload size from 1 byte to 1 MB:

# %%
sizes = sorted({round(10 ** (i / 40)) for i in range(0, 241)})
header_server = [len(rfc6455.encode_frame(Frame(Opcode.BINARY, bytes(n)))) - n for n in sizes]
header_client = [
    len(rfc6455.encode_frame(Frame(Opcode.BINARY, bytes(n)), masking_key=b"abcd")) - n
    for n in sizes
]
with classroom_style():
    figure = Figure(figsize=(11, 5.5), layout="constrained")
    ax = figure.add_subplot()
    ax.step(sizes, header_client, where="post", label="client → server (masked)", color="#D55E00")
    ax.step(sizes, header_server, where="post", label="server → client", color="#0072B2")
    for boundary, label in ((126, "126 B: 16-bit length"), (65_536, "65,536 B: 64-bit length")):
        ax.axvline(boundary, color="gray", linewidth=1, linestyle=":")
        ax.text(boundary * 1.1, 0.6, label, color="dimgray", fontsize=12)
    ax.set_xscale("log")
    ax.set_ylim(0, 16)
    ax.set_xlabel("payload length (bytes, log scale)")
    ax.set_ylabel("frame header (bytes)")
    ax.set_title(
        f"A WebSocket frame's header: {min(header_server)} to {max(header_client)} bytes,"
        " whatever the payload"
    )
    ax.legend(loc="upper left")
display(figure)
display(
    Markdown(
        f"Between {min(header_server)} and {max(header_client)} bytes per message, against the "
        f"{len(request)} bytes of the HTTP request that opened this connection: this is why a "
        "pushed message is so much cheaper on the wire than one fetched by a poll (notebook 01)."
    )
)

# %% [markdown]
# ### Masking (§5.3)
#
# Masking XORs payload byte *i* with key byte *i mod 4*. XOR twice and you are back, so the
# server unmasks with the same operation. The key travels in the clear, right before the
# payload, so masking hides nothing from anyone who reads the frame. Its purpose is different
# (§10.3): a client (a browser running someone's script) must not be able to choose the exact
# bytes that cross the network, or it could craft bytes that a confused proxy on the way takes
# for an HTTP request and caches. A fresh random key per frame makes the wire bytes
# unpredictable to the script.

# %%
masking_key = bytes.fromhex("37fa213d")
payload = b"Hello"
masked = rfc6455.apply_mask(payload, masking_key)
display(
    pd.DataFrame(
        {
            "i": range(len(payload)),
            "payload byte": [f"{b:02x} ({chr(b)})" for b in payload],
            "key byte i mod 4": [f"{masking_key[i % 4]:02x}" for i in range(len(payload))],
            "XOR = on the wire": [f"{b:02x}" for b in masked],
            "XOR again": [f"{b:02x} ({chr(b)})" for b in rfc6455.apply_mask(masked, masking_key)],
        }
    ).style.hide(axis="index")
)
assert rfc6455.apply_mask(masked, masking_key) == payload

# %% [markdown]
# ## 4. Closing (§7)
#
# Either side may start the closing handshake with a close frame carrying a status code; the
# other answers with a close frame; then the server closes the TCP connection. We send
# 1000 (normal closure).

# %%
closing = rfc6455.encode_frame(Frame.close(rfc6455.CloseCode.NORMAL_CLOSURE), mask=True)
writer.write(closing)
await writer.drain()
frame, raw = await read_frame()
while frame.opcode is not Opcode.CLOSE:  # a frame pushed before the server saw our close
    frame, raw = await read_frame()
print(f"← the server's answer, {len(raw)} bytes: {raw.hex(' ')}")
display(annotated(raw))
server_closed_tcp = not await read_more()
writer.close()
await writer.wait_closed()
print("server then closed the TCP connection:", server_closed_tcp)

# %% [markdown]
# The same conversation, narrated by the terminal client `pushlab client handshake` (it uses
# the same functions over a blocking socket, so here it runs in a thread while the server keeps
# running on this notebook's event loop):

# %%
narration = io.StringIO()
result = await asyncio.to_thread(
    handshake,
    f"ws://127.0.0.1:{server.port}/ws?since={feed.last_id}",
    text="hi again",
    out=narration,
)
print(narration.getvalue())
assert result.upgraded and result.accept_matches

# %% [markdown]
# ## 5. Keep-alive is not push
#
# The article's first point: `Connection: keep-alive` (the default in HTTP/1.1) only asks the
# server not to hang up after an answer, so the *next request* can reuse the TCP connection
# and skip a new TCP handshake. The client still has to ask; the server still only answers.
#
# The demonstrator behind `pushlab client keepalive` sends the same request N times over one
# connection, then N times with `Connection: close` (a new connection each). It reads the
# server's `tcp_connections_opened` counter before and after each run, over a connection of its
# own; we also read the counter directly from the server object in this notebook.

# %%
requests_each_way = 10
counter_before = meter.tcp_connections_opened
report = io.StringIO()
kept_alive = await asyncio.to_thread(
    keepalive, f"{server.url}/healthz", requests_each_way, out=report
)
print(report.getvalue())
per_request = pd.DataFrame(
    {
        "request": range(1, requests_each_way + 1),
        "keep-alive: local port": kept_alive.keep_alive.local_ports,
        "keep-alive: ms": [round(1000 * t, 3) for t in kept_alive.keep_alive.times_s],
        "close: local port": kept_alive.close.local_ports,
        "close: ms": [round(1000 * t, 3) for t in kept_alive.close.times_s],
    }
)
display(per_request.style.hide(axis="index").format(precision=2))

# %%
kept, closed = kept_alive.keep_alive, kept_alive.close
opened_in_demo = meter.tcp_connections_opened - counter_before
display(
    Markdown(
        f"With keep-alive, {requests_each_way} requests left from "
        f"{len(set(kept.local_ports))} local port(s) and the server accepted "
        f"{kept.connections_opened} new connection(s); with `Connection: close`, "
        f"{len(set(closed.local_ports))} ports and {closed.connections_opened} connections — one "
        f"TCP handshake per request. Counted directly on the server object, the whole demo "
        f"opened {opened_in_demo} connections (the demonstrator's own `/stats` connection "
        f"included). On loopback a new connection costs little: a reused one answered in "
        f"{kept.mean_ms:.2f} ms on average, a new one in {closed.mean_ms:.2f} ms. Across a real "
        f"network each new connection adds at least one round trip (and more with TLS).\n\n"
        f"Either way, every answer was a reply to a request. Compare section 3: over one "
        f"upgraded connection the server sent us {len(texts) + 1} messages we never asked for "
        f"individually. That is what WebSocket adds and keep-alive does not."
    )
)

# %% [markdown]
# ## Stop the server
#
# We started it, so we stop it: the listening socket closes and a new connection is refused.

# %%
await server.stop()
try:
    _, probe = await asyncio.open_connection("127.0.0.1", server.port)
except OSError as refused:
    print(f"port {server.port} is closed: {refused.__class__.__name__}")
else:
    probe.close()
    raise AssertionError("the server is still accepting connections")
