"""``python -m pushlab.bench``: the same command as ``pushlab bench`` (see ``cli.py``)."""

import sys

from pushlab.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
