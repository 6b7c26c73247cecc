"""``pushlab serve all``: the four servers as four processes, all of them listening or none.

Four processes, as in production: each technique alone with its CPU time. Two things make a
family of processes trustworthy, and this module does both:

- **All or none.** Each child prints ``pushlab NAME listening on URL`` once its socket is
  open, or says on stderr why it cannot (a busy port, say) and exits. The parent holds the
  listening lines back until all four have printed theirs; if any child ends first, it waits
  for the others to settle (started or ended: never interrupting one half-started), stops
  them, and exits 1. So "all" never means three.
- **A death is noticed.** Once all four listen, the parent watches every child at once (a
  thread per child reads its stdout; the end of that stream is the child's end). A child that
  ends, even by ``kill -9``, is reported in one line, the others are stopped, and the exit
  status is 1.

``--port P`` puts the four on P, P+1, P+2, P+3 (in the order of ``pushlab.techniques``);
``--port 0`` on any free ports, each printed in its listening line.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

from pushlab.servers.children import stop_children, stop_on_sigterm
from pushlab.servers.teacher import KEY_ENV, key_line
from pushlab.techniques import NAMES, TECHNIQUES

LISTENING = " listening on "
"""What a server prints once it listens (``serve_one``): the child's "I am up"."""

HIGHEST_PORT = 65535


def ports_for_all(port: int | None) -> dict[str, int]:
    """Each technique's port: its own (no ``--port``), any free one (0) or P, P+1, P+2, P+3."""
    if port is None:
        return {name: TECHNIQUES[name].port for name in NAMES}
    if port == 0:
        return dict.fromkeys(NAMES, 0)
    return {name: port + offset for offset, name in enumerate(NAMES)}


def port_block_problem(port: int | None) -> str | None:
    """Why ``--port`` cannot place the four servers, if it cannot."""
    if port and port + len(NAMES) - 1 > HIGHEST_PORT:
        return f"--port {port}: the four servers need {port}–{port + len(NAMES) - 1}"
    return None


@dataclass(frozen=True)
class Event:
    """A line a child printed, or (``line is None``) the end of its output: the child ended."""

    technique: str
    line: bytes | None


def watch(technique: str, child: subprocess.Popen[bytes], events: queue.Queue[Event]) -> None:
    """Forward each of the child's stdout lines to ``events``; then say that it ended."""
    assert child.stdout is not None
    for line in child.stdout:
        events.put(Event(technique, line))
    events.put(Event(technique, None))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def ended_how(child: subprocess.Popen[bytes]) -> str:
    code = child.wait()
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def run_all(
    passthrough: list[str], port: int | None, prog: str, environment: dict[str, str] | None = None
) -> int:
    """Start the four children with ``passthrough`` options (and ``environment`` added to
    theirs: the teacher key); see the module's docstring."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    events: queue.Queue[Event] = queue.Queue()
    children: dict[str, subprocess.Popen[bytes]] = {}
    for technique, technique_port in ports_for_all(port).items():
        port_option = [] if port is None else ["--port", str(technique_port)]
        children[technique] = child = subprocess.Popen(
            [sys.executable, "-m", "pushlab", "serve", technique, *passthrough, *port_option],
            stdout=subprocess.PIPE,
            env={**os.environ, **(environment or {})},
        )
        threading.Thread(target=watch, args=(technique, child, events), daemon=True).start()
    try:
        if not all_listening(children, events, prog):
            return 1
        if environment and KEY_ENV in environment:
            say(key_line(environment[KEY_ENV]).rstrip("\n"))  # once, for the four
        watch_until_one_ends(children, events, prog)
        return 1
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (stop_on_sigterm): the ordinary way out
        return 0
    finally:
        # A second Ctrl-C or SIGTERM (a process group signalled at once) must not cut the
        # stopping short: the children are stopped whatever arrives now.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_children(list(children.values()))


def all_listening(
    children: dict[str, subprocess.Popen[bytes]], events: queue.Queue[Event], prog: str
) -> bool:
    """Wait until every child listens or ended; print the held lines only if all listen.

    A child that could not start has said why on stderr (naming its port); only one killed by
    a signal, which had no chance to, is reported here.
    """
    held: list[bytes] = []
    listening: set[str] = set()
    ended: set[str] = set()
    while len(listening) + len(ended) < len(children):
        event = events.get()
        if event.line is None:
            ended.add(event.technique)
            listening.discard(event.technique)
            continue
        held.append(event.line)
        if LISTENING.encode() in event.line:
            listening.add(event.technique)
    for technique in ended:
        if children[technique].wait() < 0:
            say(f"{prog} all: the {technique} server {ended_how(children[technique])}")
    if ended:
        return False
    sys.stdout.buffer.write(b"".join(held))
    sys.stdout.flush()
    return True


def watch_until_one_ends(
    children: dict[str, subprocess.Popen[bytes]], events: queue.Queue[Event], prog: str
) -> None:
    """Relay the children's lines until one of them ends, then say which and how."""
    while True:
        event = events.get()
        if event.line is None:
            child = children[event.technique]
            say(
                f"{prog} all: the {event.technique} server (pid {child.pid}) {ended_how(child)};"
                " stopping the other three"
            )
            return
        sys.stdout.buffer.write(event.line)
        sys.stdout.flush()
