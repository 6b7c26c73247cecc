"""The lifecycle part of a browser-lane scenario: pages hidden and frozen, then shown again.

Chromium throttles a hidden page's timers (to once a second, and to once a minute after five
minutes) and freezes pages it keeps in the background (the Page Lifecycle API's *frozen*
state: no task of the page runs while its connections stay open). In this part's scenario
the browser generator (``page_lifecycle.py``) leaves page 0 alone (the control) and, a few
seconds into the window, hides page 1, freezes page 2 (and so on in turn) for ``for_s``
seconds, then shows them again; the window goes on long enough for them to catch up.

What each technique's client does meanwhile is its own mechanism: polling and long polling
ask only when a timer or a completed fetch lets them; a WebSocket or an EventSource stays
open and the server keeps writing while the page's code does not run (until the
connection's buffers fill, when the server's high-water mark takes the client out of the
broadcast and it comes back with a gap). The row says, for the hidden and for the frozen
pages, what they received, what the server told them was gone, what was lost silently,
their reconnects, and how long after being shown again they heard news and had caught up
(``analysis/lifecycle_window.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pushlab.bench.analysis.lifecycle_window import lifecycle_columns
from pushlab.bench.core.scenario import Part

CATCH_UP_S = 25.0
"""The window goes on this long after the pages are shown again: the reconnect policy's cap
(10 s) twice, and a poll interval."""
WINDOW_LEAD_S = 3.0
"""The pages are hidden or frozen this long after the window opened."""


@dataclass(frozen=True)
class LifecyclePart(Part):
    """Page 0 the control, the others hidden or frozen in turn for ``for_s`` seconds,
    ``after_s`` after the generator said ``ready``."""

    for_s: float
    after_s: float

    @property
    def key(self) -> str:
        return "lifecycle"

    def id_suffix(self) -> str:
        return f"-away{self.for_s:g}"

    def words(self) -> str:
        return f", pages hidden or frozen for {self.for_s:g} s"

    def generator_args(self) -> list[str]:
        return ["--lifecycle-after", f"{self.after_s:g}", "--lifecycle-for", f"{self.for_s:g}"]

    def columns(self, reduced: Any) -> dict[str, Any]:
        return {"lifecycle_for_s": self.for_s, **lifecycle_columns(reduced)}


def lifecycle_window_s(for_s: float) -> float:
    return WINDOW_LEAD_S + for_s + CATCH_UP_S
