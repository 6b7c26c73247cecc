"""``python -m pushlab``: the ``pushlab`` command, for when the script is not on ``PATH``."""

import sys

from pushlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
