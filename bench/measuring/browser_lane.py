"""The browser lane's part of a scenario: which clients carry the load, Chromium's or Locust's.

The browser sweep (``bench/sweeps/browser.py``) measures each technique twice at the same
clients, rate and interval: once with Locust's users, once with K pages of one headless
Chromium running the classroom page's own client (``browser_generator.py``). Both rows carry
this part, so that each names its lane in its id (``-locust``, ``-browser``) and in the
``lane`` column, and the comparison finding can pair them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pushlab.bench.core.scenario import Part

LANES = {"locust": "Locust users", "browser": "Chromium pages"}
"""Each lane's name in scenario ids, and its words in the table."""
BROWSER_GENERATOR = "pushlab.bench.measuring.browser_generator"


@dataclass(frozen=True)
class LanePart(Part):
    """Whose clients load the server in this scenario."""

    lane: str

    def __post_init__(self) -> None:
        if self.lane not in LANES:
            raise ValueError(f"unknown lane {self.lane!r}; known: {', '.join(LANES)}")

    @property
    def key(self) -> str:
        return "lane"

    def id_suffix(self) -> str:
        return f"-{self.lane}"

    def words(self) -> str:
        return f", {LANES[self.lane]}"

    def generator_module(self) -> str | None:
        return BROWSER_GENERATOR if self.lane == "browser" else None

    def columns(self, reduced: Any) -> dict[str, Any]:
        return {"lane": LANES[self.lane]}
