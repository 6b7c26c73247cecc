"""``python -m pushlab.peers NAME [options]``: run one peer server, as the bench does.

The options are ``pushlab serve``'s (``--port 0`` picks a free port, which is also the default:
peers have no ports of their own; ``--profile FILE`` writes a cProfile when the peer stops, as
the bench's ``--profile SCENARIO`` asks; ``--loop`` picks the event loop where the peer can use
either). The first line is the one the harness reads: ``pushlab <name> listening on
http://HOST:PORT``; a peer that knows what it runs on (server, loop, parser, versions) says so
on the second line, ``stack: {...}``, as in its ``/stats``.

A peer module is one of three kinds: an aiohttp peer has ``setup(app, name)`` (its route on
pushlab's application); a peer on another Python framework has ``framework_server(control)``,
an async context manager that serves pushlab's control routes beside its own and yields its
URL (``peers/control.py``); a peer in another language has ``program(name, config)``, the
command line this process becomes (``os.execvp``: the bench samples the same process id).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from types import ModuleType

from pushlab.limits import raise_open_files_limit
from pushlab.peers import (
    aiohttp_sse,
    baseline_polling,
    baseline_websocket,
    node_peers,
    picows_server,
    socketio_server,
    sse_starlette,
    starlette_websocket,
    tornado_longpoll,
    websockets_broadcast,
)
from pushlab.peers.app import make_peer_app
from pushlab.peers.control import Control
from pushlab.servers.__main__ import config_from, parse_args
from pushlab.servers.config import ServerConfig
from pushlab.servers.loops import (
    DEFAULT_LOOP,
    LoopUnavailableError,
    loop_factory,
    loop_name,
    run,
)
from pushlab.servers.profiling import profiled
from pushlab.servers.runner import start, wait_for_stop_signal
from pushlab.techniques import PEER_NAMES

PROG = "python -m pushlab.peers"

MODULES: dict[str, ModuleType] = {
    "baseline-websocket": baseline_websocket,
    "websockets-broadcast": websockets_broadcast,
    "socketio-websocket": socketio_server,
    "socketio-default": socketio_server,
    "socketio-polling": socketio_server,
    "aiohttp-sse": aiohttp_sse,
    "starlette-websocket": starlette_websocket,
    "sse-starlette": sse_starlette,
    "picows": picows_server,
    "tornado-longpoll": tornado_longpoll,
    "node-ws": node_peers,
    "node-socketio": node_peers,
    "baseline-polling": baseline_polling,
}
assert tuple(MODULES) == PEER_NAMES, "every peer in pushlab.techniques needs its module here"


@contextlib.asynccontextmanager
async def on_aiohttp(name: str, config: ServerConfig) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """An aiohttp peer: pushlab's application with the peer's route."""
    app = make_peer_app(name, config, MODULES[name].setup)
    server = await start(app, config.host, config.port or 0)
    try:
        yield server.url, {"loop": loop_name()}
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def on_own_framework(
    name: str, config: ServerConfig
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A peer on another framework, with pushlab's control routes (``peers/control.py``)."""
    control = Control(name, config)
    async with MODULES[name].framework_server(control) as url:
        yield url, control.stack


async def serve_peer(name: str, config: ServerConfig, prog: str = PROG) -> int:
    """Serve until SIGINT or SIGTERM; 1 with one line on stderr if the port cannot be had."""
    listening = on_own_framework if hasattr(MODULES[name], "framework_server") else on_aiohttp
    try:
        async with listening(name, config) as (url, stack):
            # One write per line: the harness reads the first line as soon as it arrives.
            sys.stdout.write(f"pushlab {name} listening on {url}\n")
            sys.stdout.write(f"stack: {json.dumps(stack)}\n")
            sys.stdout.flush()
            await wait_for_stop_signal()
    except OSError as error:
        print(f"{prog} {name}: cannot listen: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


def peer_loop(name: str, asked: str | None) -> Callable[..., object] | None:
    """The loop asked for, else the peer's own default (uvicorn's for the uvicorn peers)."""
    own = getattr(MODULES[name], "LOOP", DEFAULT_LOOP)
    if asked is None and own == "uvicorn":
        from pushlab.peers.uvicorn_server import loop_factory as uvicorn_default

        return uvicorn_default()
    return loop_factory(asked or own)


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv, prog, PEER_NAMES)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    raise_open_files_limit()
    config = config_from(args)
    module = MODULES[args.technique]
    if hasattr(module, "program"):  # another language: this process becomes its server
        try:
            command = module.program(args.technique, config)
        except node_peers.NodeUnavailableError as error:
            print(f"{prog} {args.technique}: {error}", file=sys.stderr)
            return 1
        os.execvp(command[0], command)
    try:
        factory = peer_loop(args.technique, args.loop)
    except LoopUnavailableError as error:
        print(f"{prog} {args.technique}: {error}", file=sys.stderr)
        return 1
    with contextlib.suppress(KeyboardInterrupt), profiled(args.profile):  # --profile FILE
        return run(serve_peer(args.technique, config, prog), factory)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
