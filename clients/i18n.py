"""What the terminal clients say, in English or in Chinese.

The English lines are the protocol view (``→ GET /poll?since=41``). The Chinese lines play the
source article's dialogue (客户端：啦啦啦，有没有新信息？ / 服务端：没有) with the same protocol
facts after it, so a class can read the conversation and the wire at once. Each language is
one class; the clients only ever call these methods, never build sentences themselves.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import ClassVar

from pushlab.protocol import Gap

LANGUAGES = ("en", "zh")


def format_ms(ms: float) -> str:
    """Milliseconds with the precision a person reads: 0.42, 3.1, 480."""
    if ms < 1:
        return f"{ms:.2f}"
    if ms < 10:
        return f"{ms:.1f}"
    return f"{ms:.0f}"


def id_range(ids: Sequence[int]) -> str:
    if len(ids) == 1:
        return f"#{ids[0]}"
    if list(ids) == list(range(ids[0], ids[0] + len(ids))):
        return f"#{ids[0]}–#{ids[-1]}"
    return ", ".join(f"#{i}" for i in ids)


def latency_range(latencies_ms: Sequence[float]) -> str:
    low, high = min(latencies_ms), max(latencies_ms)
    if len(latencies_ms) == 1 or format_ms(low) == format_ms(high):
        return f"{format_ms(high)} ms"
    return f"{format_ms(low)}–{format_ms(high)} ms"


class English:
    """Protocol-first lines, one per exchange."""

    def messages(self, ids: Sequence[int], latencies_ms: Sequence[float]) -> str:
        if not ids:
            return "0 messages (nothing new)"
        noun = "message" if len(ids) == 1 else "messages"
        return f"{len(ids)} {noun} {id_range(ids)} (latency {latency_range(latencies_ms)})"

    # polling
    def poll_request(self, path: str) -> str:
        return f"GET {path}"

    def poll_answer(self, status: int, messages: str, empty_streak: int) -> str:
        return f"{status}, {messages}"

    # long polling
    def longpoll_request(self, path: str, hold_s: float) -> str:
        return f"GET {path} (held until news or {hold_s:g} s)"

    def longpoll_answer(self, status: int, held_s: float, messages: str, timed_out: bool) -> str:
        tail = "; the hold timed out, asking again" if timed_out else ""
        return f"{status} after {held_s:.2f} s held, {messages}{tail}"

    # WebSocket
    def ws_request(self, path: str) -> str:
        return f"GET {path}  Upgrade: websocket (asks to switch protocols)"

    def ws_accepted(self, status: int, reason: str) -> str:
        return f"{status} {reason}: this TCP connection now carries WebSocket frames"

    def ws_frame(self, messages: str) -> str:
        return f"text frame pushed, {messages}"

    def ws_error_frame(self, error: str) -> str:
        return f"text frame with an error: {error}"

    def ws_close_sent(self, code: int) -> str:
        return f"close frame {code} (normal closure)"

    def ws_close_received(self, code: int | None, reason: str) -> str:
        return f"close frame {code}" + (f" {reason!r}" if reason else "") + ": the server hung up"

    # Server-Sent Events
    def sse_request(self, path: str) -> str:
        return f"GET {path}  Accept: text/event-stream"

    def sse_opened(self, status: int, content_type: str) -> str:
        return f"{status} {content_type}: the response stays open, events follow"

    def sse_retry(self, retry_ms: int) -> str:
        return f"retry: {retry_ms} (if the stream breaks, reconnect after {retry_ms} ms)"

    def sse_event(self, event_id: str, messages: str) -> str:
        return f"event id {event_id}, {messages}"

    def sse_comment(self, comment: str) -> str:
        return f"comment {comment!r} (keeps an idle stream alive through proxies)"

    def stream_ended(self) -> str:
        return "the server ended the stream"

    # breaks, reconnects and resumes (clients.reconnect)
    def no_close_frame(self) -> str:
        return "the connection ended without a close frame (the server vanished, or the network)"

    def connection_broken(self, reason: str) -> str:
        return f"connection broken: {reason}"

    def reconnect_wait(self, wait_s: float, attempt: int, retries: int) -> str:
        return f"waiting {wait_s:.2f} s, then reconnecting (attempt {attempt} of {retries})"

    def reconnect_failed(self, reason: str) -> str:
        return f"still down: {reason}"

    def gave_up(self, reason: str, attempts: int) -> str:
        return f"{reason} (gave up after {attempts} reconnect attempts)"

    def resumed(self, cursor: int, last_id: int) -> str:
        back = max(last_id - cursor, 0)
        return (
            f"back: resuming from the cursor, since={cursor}; the server is at #{last_id},"
            f" so {back} {'message comes' if back == 1 else 'messages come'} back from its history"
        )

    def not_resumed(self, cursor: int, last_id: int) -> str:
        skipped = max(last_id - cursor, 0)
        return (
            f"back, without resuming (--no-resume): starting from the present, since={last_id};"
            f" {skipped} published during the break will never arrive"
        )

    def server_restarted(self, cursor: int) -> str:
        return (
            "the server restarted (a new feed: ids count from #1 again, the old history is gone"
            f" with its memory): messages of the old feed after #{cursor}, if there were any,"
            f" are lost; starting again from since=0 instead of since={cursor}"
        )

    def gap(self, gap: Gap, history_size: int | None) -> str:
        kept = f": the server keeps the last {history_size:,}" if history_size else ""
        return f"{gap.describe()}{kept}"

    def sse_resume_request(self, path: str, last_event_id: int) -> str:
        return f"GET {path}  Accept: text/event-stream  Last-Event-ID: {last_event_id}"

    # summary
    stop_reasons: ClassVar[dict[str, str]] = {
        "count": "--count reached",
        "interrupted": "interrupted (Ctrl-C)",
        "server closed": "the server closed the connection",
        "error": "error",
    }
    labels: ClassVar[dict[str, str]] = {
        "requests": "requests sent",
        "empty": "empty answers",
        "messages": "messages",
        "bytes_sent": "bytes sent",
        "bytes_received": "bytes received",
        "latency": "delivery latency",
        "reconnects": "reconnects",
        "from_history": "back from history",
        "gone": "gone (gap signals)",
    }

    def summary_title(self, technique: str, url: str, elapsed_s: float, stopped_by: str) -> str:
        reason = self.stop_reasons.get(stopped_by, stopped_by)
        return f"summary: {technique} at {url}, {elapsed_s:.2f} s, stopped: {reason}"

    def bytes_note(self, where: str) -> str:
        return f"({where})"

    def latency_value(self, mean_ms: float | None, max_ms: float | None) -> str:
        if mean_ms is None or max_ms is None:
            return "no messages"
        return (
            f"mean {format_ms(mean_ms)} ms, max {format_ms(max_ms)} ms (receive time − message ts)"
        )

    # The byte-level clients (handshake, keepalive): the bytes are the wire's own; the
    # headings that walk through them, and the moral, are said in the chosen language.
    def heading(self, text: str) -> str:
        return text

    def keepalive_moral(self) -> str:
        return (
            "Keep-alive saves set-up; it cannot push: the client still asks, the server only"
            " answers."
        )


class Chinese(English):
    """The article's dialogue (场景再现), then the same protocol facts."""

    def messages(self, ids: Sequence[int], latencies_ms: Sequence[float]) -> str:
        if not ids:
            return "0 条消息"
        return f"{len(ids)} 条消息 {id_range(ids)}（延迟 {latency_range(latencies_ms)}）"

    # The server's patience wears thin, as in the article.
    empty_replies = ("没有", "没有。。", "你好烦啊，没有啊。。")

    def poll_request(self, path: str) -> str:
        return f"客户端：啦啦啦，有没有新信息？  GET {path}"

    def poll_answer(self, status: int, messages: str, empty_streak: int) -> str:
        if empty_streak == 0:
            return f"服务端：好啦好啦，有啦给你。  {status}，{messages}"
        reply = self.empty_replies[min(empty_streak, len(self.empty_replies)) - 1]
        return f"服务端：{reply}  {status}，{messages}"

    def longpoll_request(self, path: str, hold_s: float) -> str:
        ask = "客户端：啦啦啦，有没有新信息，没有的话就等有了才返回给我吧"
        return f"{ask}  GET {path}（最多等 {hold_s:g} 秒）"

    def longpoll_answer(self, status: int, held_s: float, messages: str, timed_out: bool) -> str:
        if timed_out:
            return f"服务端：等了 {held_s:.2f} 秒，还是没有。你再问吧  {status}，{messages}"
        reply = "服务端：额。。等到有消息的时候。。来，给你"
        return f"{reply}  {status}（等了 {held_s:.2f} 秒），{messages}"

    def ws_request(self, path: str) -> str:
        return f"客户端：我们把协议升级为 WebSocket 吧  GET {path}  Upgrade: websocket"

    def ws_accepted(self, status: int, reason: str) -> str:
        return f"服务端：协议切换成功！以后有新消息我主动推给你  {status} {reason}"

    def ws_frame(self, messages: str) -> str:
        return f"服务端（主动推送）：来，给你  文本帧，{messages}"

    def ws_error_frame(self, error: str) -> str:
        return f"服务端：你发的不对  错误：{error}"

    def ws_close_sent(self, code: int) -> str:
        return f"客户端：我先走了，再见  关闭帧 {code}"

    def ws_close_received(self, code: int | None, reason: str) -> str:
        return f"服务端：我要挂了  关闭帧 {code}" + (f" {reason!r}" if reason else "")

    def sse_request(self, path: str) -> str:
        return f"客户端：有新消息就一直发给我吧  GET {path}  Accept: text/event-stream"

    def sse_opened(self, status: int, content_type: str) -> str:
        return f"服务端：好，这个响应我先不结束，有消息就往里写  {status} {content_type}"

    def sse_retry(self, retry_ms: int) -> str:
        return f"服务端：要是断了，{retry_ms} 毫秒后再连我  retry: {retry_ms}"

    def sse_event(self, event_id: str, messages: str) -> str:
        return f"服务端：来，给你  事件 id {event_id}，{messages}"

    def sse_comment(self, comment: str) -> str:
        return f"服务端：（我还在）  注释 {comment!r}"

    def stream_ended(self) -> str:
        return "服务端：不聊了（响应结束）"

    def no_close_frame(self) -> str:
        return "连接断了，没有关闭帧（服务端不见了，或者网络断了）"

    def connection_broken(self, reason: str) -> str:
        return f"客户端：咦，断了？  {reason}"

    def reconnect_wait(self, wait_s: float, attempt: int, retries: int) -> str:
        return f"客户端：等 {wait_s:.2f} 秒再连（第 {attempt} 次，最多 {retries} 次）"

    def reconnect_failed(self, reason: str) -> str:
        return f"还是连不上：{reason}"

    def resumed(self, cursor: int, last_id: int) -> str:
        back = max(last_id - cursor, 0)
        return (
            f"客户端：我又来了，从 since={cursor} 接着说  服务端已到 #{last_id}，"
            f"有 {back} 条消息从历史里补给你"
        )

    def not_resumed(self, cursor: int, last_id: int) -> str:
        skipped = max(last_id - cursor, 0)
        return (
            f"客户端：我又来了，从现在开始（--no-resume，since={last_id}）"
            f"  断线期间的 {skipped} 条收不到了"
        )

    def server_restarted(self, cursor: int) -> str:
        return (
            "服务端：我重启了，以前的消息都没了（新的 feed，id 从 #1 重新数）"
            f"  旧 feed 中 #{cursor} 之后的消息（如果有的话）已经丢失"
            f"  从 since=0 重新开始（原来是 since={cursor}）"
        )

    def gap(self, gap: Gap, history_size: int | None) -> str:
        gone = (
            f"消息 #{gap.from_id}–#{gap.to_id} 已经没了"
            if gap.count > 1
            else f"消息 #{gap.from_id} 已经没了"
        )
        kept = f"：服务端只保留最近 {history_size:,} 条" if history_size else ""
        return f"服务端：{gone}{kept}"

    def sse_resume_request(self, path: str, last_event_id: int) -> str:
        return f"客户端：我又来了，从上次的 id 接着发吧  GET {path}  Last-Event-ID: {last_event_id}"

    stop_reasons: ClassVar[dict[str, str]] = {
        "count": "已收到 --count 条消息",
        "interrupted": "被中断（Ctrl-C）",
        "server closed": "服务端关闭了连接",
        "error": "出错",
    }
    labels: ClassVar[dict[str, str]] = {
        "requests": "发出的请求",
        "empty": "空回答（没有）",
        "messages": "收到的消息",
        "bytes_sent": "发送字节",
        "bytes_received": "接收字节",
        "latency": "送达延迟",
        "reconnects": "重连次数",
        "from_history": "从历史补回",
        "gone": "已丢失（有缺口通知）",
    }

    def summary_title(self, technique: str, url: str, elapsed_s: float, stopped_by: str) -> str:
        reason = self.stop_reasons.get(stopped_by, stopped_by)
        return f"小结：{technique}，{url}，{elapsed_s:.2f} 秒，结束原因：{reason}"

    def bytes_note(self, where: str) -> str:
        return (
            "（在本客户端的 socket 上计数）" if where.startswith("counted at") else f"（{where}）"
        )

    def latency_value(self, mean_ms: float | None, max_ms: float | None) -> str:
        if mean_ms is None or max_ms is None:
            return "没有消息"
        return f"平均 {format_ms(mean_ms)} ms，最大 {format_ms(max_ms)} ms（收到时间 − 消息 ts）"

    headings: ClassVar[dict[str, str]] = {
        "Sec-WebSocket-Accept = base64(SHA-1(key + GUID))  (RFC 6455 §4.2.2)": "应答密钥的算法",
        "1. Opening handshake (§4.1): the client asks to switch protocols": (
            "1. 开始握手：客户端：我们换成 WebSocket 说话吧？"
        ),
        "1. A plain HTTP GET on the WebSocket path": "1. 在 WebSocket 路径上发一个普通的 GET",
        "2. The server's answer, raw": "2. 服务端的回答，原样",
        "Why": "为什么",
        "3. Checking Sec-WebSocket-Accept (§4.2.2)": "3. 核对 Sec-WebSocket-Accept",
        "4. Data frames (§5.2): the client must mask what it sends (§5.3)": (
            "4. 数据帧：客户端发出的帧必须加掩码"
        ),
        "5. Closing handshake (§7.1.2): close frame 1000, the server echoes it": (
            "5. 关闭握手：客户端：再见（1000）；服务端：再见"
        ),
        "4. An unmasked text frame (§5.1 forbids it: clients MUST mask)": (
            "4. 一个没加掩码的文本帧（§5.1 不允许）"
        ),
        "Connection: keep-alive (HTTP/1.1's default): one TCP connection for all": (
            "长连接（HTTP/1.1 默认）：所有请求共用一条 TCP 连接"
        ),
        "Connection: close: the server hangs up after each answer": (
            "Connection: close：每次回答后服务端挂断"
        ),
        "What this shows:": "说明了什么：",
    }

    def heading(self, text: str) -> str:
        said = self.headings.get(text)
        return f"{said}（{text}）" if said else text

    def keepalive_moral(self) -> str:
        return "长连接省去了建立连接的开销，但不能推送：还是客户端问，服务端答。"


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """``--lang``, the same for every terminal client."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="en: the protocol view; zh: the source article's dialogue beside it (default en)",
    )


def texts(lang: str) -> English:
    """The phrasebook of ``lang`` ("en" or "zh")."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return Chinese() if lang == "zh" else English()
