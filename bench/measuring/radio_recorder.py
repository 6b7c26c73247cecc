"""Every write a sampled client makes or receives, recorded where its bytes pass: its sockets.

A phone's radio wakes for every packet, whichever library sent it and whatever it carried: an
HTTP request, an empty poll answer, a WebSocket ping and the pong the client library sends back
unasked, an SSE keep-alive comment. The Locust users never see all of these (``websocket-client``
answers pings inside ``recv_data``; the HTTP libraries read headers on their own), so the
recorder sits below them: in the generator process every socket is gevent's, and every byte a
user sends goes through its ``send`` (``sendall`` calls it) and every byte it receives through
its ``recv`` or ``recv_into``. :func:`install` wraps those three methods once; each call made
from a sampled user's greenlet appends ``(time, bytes)`` to that user's timeline — time from the
wall clock (``time.time()``, the clock the harness opens its window with), bytes positive for
sent and negative for received. Users are sampled by number (every k-th); the others pay one
dictionary lookup per socket call.

A ``recv`` returns what the kernel had buffered: a burst of TCP segments read at once counts as
one write. The radio model cares about when traffic happens and roughly how much, so this is
the right grain; it is not a packet capture.
"""

from __future__ import annotations

import time
from array import array
from typing import Any

import gevent
import numpy as np
from gevent import socket as gevent_socket

_NOT_SAMPLED = None


class RadioRecorder:
    """The timelines of the sampled users, keyed by the greenlet each user runs in."""

    def __init__(self, sample_every: int) -> None:
        if sample_every < 1:
            raise ValueError("sample_every must be at least 1")
        self.sample_every = sample_every
        self.by_greenlet: dict[Any, tuple[int, array, array] | None] = {}
        self.originals: dict[str, Any] = {}  # gevent's own methods, once installed

    def timeline_of(self, greenlet: Any) -> tuple[int, array, array] | None:
        """The (user number, times, signed bytes) of the greenlet's user, if it is sampled."""
        try:
            return self.by_greenlet[greenlet]
        except KeyError:
            pass
        args = getattr(greenlet, "args", ())
        user = args[0] if args else None
        number = getattr(user, "number", None)
        if number is None or number % self.sample_every:
            entry = _NOT_SAMPLED
        else:
            entry = (number, array("d"), array("q"))
        self.by_greenlet[greenlet] = entry
        return entry

    def note(self, signed_bytes: int) -> None:
        if signed_bytes:
            entry = self.timeline_of(gevent.getcurrent())
            if entry is not None:
                entry[1].append(time.time())
                entry[2].append(signed_bytes)

    def arrays(self) -> dict[str, np.ndarray]:
        """``radio_user``, ``radio_at`` (epoch s) and ``radio_bytes`` (+ sent, − received)."""
        entries = sorted(e for e in self.by_greenlet.values() if e is not None)
        users = [np.full(len(e[1]), e[0], dtype=np.int64) for e in entries]
        return {
            "radio_user": np.concatenate(users) if users else np.zeros(0, np.int64),
            "radio_at": np.concatenate([np.frombuffer(e[1]) for e in entries] or [np.zeros(0)]),
            "radio_bytes": np.concatenate(
                [np.asarray(e[2], dtype=np.int64) for e in entries] or [np.zeros(0, np.int64)]
            ),
            "radio_sample_every": np.array(self.sample_every, dtype=np.int64),
        }


def install(sample_every: int) -> RadioRecorder:
    """Wrap gevent's socket ``send``, ``recv``, ``recv_into`` and ``recvmsg`` (the users' raw
    reads with the kernel's receive time) to feed a new recorder."""
    recorder = RadioRecorder(sample_every)
    socket_class = gevent_socket.socket
    send, recv, recv_into = socket_class.send, socket_class.recv, socket_class.recv_into
    recvmsg = socket_class.recvmsg

    def recorded_send(self: Any, data: Any, *args: Any, **kwargs: Any) -> int:
        sent = send(self, data, *args, **kwargs)
        recorder.note(sent)
        return sent

    def recorded_recv(self: Any, *args: Any) -> bytes:
        data = recv(self, *args)
        recorder.note(-len(data))
        return data

    def recorded_recv_into(self: Any, *args: Any) -> int:
        received = recv_into(self, *args)
        recorder.note(-received)
        return received

    def recorded_recvmsg(self: Any, *args: Any) -> Any:
        answer = recvmsg(self, *args)
        recorder.note(-len(answer[0]))
        return answer

    socket_class.send = recorded_send
    socket_class.recv = recorded_recv
    socket_class.recv_into = recorded_recv_into
    socket_class.recvmsg = recorded_recvmsg
    recorder.originals = {
        "send": send,
        "recv": recv,
        "recv_into": recv_into,
        "recvmsg": recvmsg,
    }
    return recorder


def uninstall(recorder: RadioRecorder) -> None:
    """Put gevent's own methods back (the generator never needs to; a test does)."""
    for name, method in recorder.originals.items():
        setattr(gevent_socket.socket, name, method)
