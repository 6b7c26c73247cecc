"""``python -m pushlab.peers NAME [options]``: run one peer server, as the bench does.

The options are ``pushlab serve``'s (``--port 0`` picks a free port, which is also the default:
peers have no ports of their own; ``--profile FILE`` writes a cProfile when the peer stops, as
the bench's ``--profile SCENARIO`` asks). The first line is the one the harness reads:
``pushlab <name> listening on http://HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from types import ModuleType

from pushlab.limits import raise_open_files_limit
from pushlab.peers import (
    aiohttp_sse,
    baseline_polling,
    baseline_websocket,
    socketio_server,
    websockets_broadcast,
)
from pushlab.peers.app import make_peer_app
from pushlab.servers.__main__ import config_from, parse_args
from pushlab.servers.config import ServerConfig
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
    "baseline-polling": baseline_polling,
}
assert tuple(MODULES) == PEER_NAMES, "every peer in pushlab.techniques needs its module here"


async def serve_peer(name: str, config: ServerConfig, prog: str = PROG) -> int:
    """Serve until SIGINT or SIGTERM; 1 with one line on stderr if the port cannot be had."""
    app = make_peer_app(name, config, MODULES[name].setup)
    try:
        server = await start(app, config.host, config.port or 0)
    except OSError as error:
        print(f"{prog} {name}: cannot listen: {error.strerror or error}", file=sys.stderr)
        return 1
    sys.stdout.write(f"pushlab {name} listening on {server.url}\n")  # one write: one line
    sys.stdout.flush()
    try:
        await wait_for_stop_signal()
    finally:
        await server.stop()
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv, prog, PEER_NAMES)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    raise_open_files_limit()
    with contextlib.suppress(KeyboardInterrupt), profiled(args.profile):  # --profile FILE
        return asyncio.run(serve_peer(args.technique, config_from(args), prog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
