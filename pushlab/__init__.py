"""pushlab: how a web server gets new data to a browser — polling, long polling, WebSocket, SSE.

The repository keeps one folder per part at its top (``servers/``, ``clients/``, ``bench/``);
installed, they are the sub-packages ``pushlab.servers``, ``pushlab.clients`` and
``pushlab.bench``. ``pushlab.techniques`` is the one table of facts about the four techniques;
``pushlab.rfc6455`` is the one WebSocket codec (handshake and frames, sans-I/O).
"""

from importlib.metadata import PackageNotFoundError, version

try:  # the version is written once, in pyproject.toml; installing records it
    __version__ = version("pushlab")
except PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = "0+unknown"
