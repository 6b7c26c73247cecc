"""Where the browser lane finds Chromium, how it starts it, and what it says when it cannot.

The lane drives the system's Chromium through Playwright (the ``browser`` extra, also in
``dev``): no browser is downloaded. Without either, a run says why in one line and skips the
lane; under ``CI=true`` that is an error, so CI never passes by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
"""Loopback only: nothing of Chromium's own talks to the network while it measures."""


def find_chromium() -> str | None:
    """``$PUSHLAB_CHROMIUM``, ``/usr/bin/chromium``, or a Chromium on PATH (None: none)."""
    candidates = [os.environ.get("PUSHLAB_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def missing_reason() -> str | None:
    """Why the browser lane cannot run here, in one line (None: it can)."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install 'pushlab[browser]')"
    if find_chromium() is None:
        return (
            "no Chromium found (tried $PUSHLAB_CHROMIUM, /usr/bin/chromium, chromium on PATH);"
            " install it, e.g. apt-get install chromium"
        )
    return None


def must_run() -> bool:
    """Under CI a lane that cannot run fails instead of skipping."""
    return os.environ.get("CI") == "true"
