"""Every measured figure in README.md and docs/*.md is traceable to a committed run.

The rule these tests enforce:

- A **measured** figure (a latency, a CPU or memory cost, a rate reached, a run's duration)
  appears only inside a generated block, ``<!-- figures:DIR:QUOTE -->`` … ``<!-- /figures -->``,
  which names the results directory it comes from; the block must be exactly what
  ``bench/presentation/quotes.py`` generates from that directory today (``make docs``), and the
  directory must be committed.
- Outside the blocks, a number followed by a unit that only a measurement gives (ms, µs, KB,
  KiB, MB, B/s, req/s, min, %) is refused, unless it is a **fact of the code** listed in
  :data:`FACTS_FROM_CODE`, where the test computes the phrase from the constant it states, so a
  changed default fails here rather than leaving the docs wrong. Seconds are left out: the
  durations the docs name are settings (``--duration``, the hold, timeouts), which ``--help``
  states; a measured duration is a "min" or comes through the ``wall-time`` quote.
- ``docs/CONTRACT.md``'s column list is generated from the columns' metadata (its own test
  checks it), so its text is code's, and is not scanned.
- No user-facing page cites an issue number.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pushlab.bench.analysis.peer_ranking import RSS_TARGET_KB
from pushlab.bench.core.matrix import settings_for
from pushlab.bench.measuring.capacity import DELIVERED_FRACTION, P99_LIMIT_MS
from pushlab.bench.presentation import contract, quotes
from pushlab.radio_profiles import LTE
from pushlab.servers.answers import MAX_ANSWER_BYTES
from pushlab.servers.broadcast import DEFAULT_HIGH_WATER_BYTES
from pushlab.servers.config import LESSON_PUBLISH_RATE
from pushlab.techniques import POLL_INTERVAL_S

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

MEASURED = re.compile(
    r"(?<![\w.])\d[\d,.]*\s?(?:ms|µs|us|KB|kB|KiB|MB|MiB|GB|B/s|req/s|min|%)(?![\w/])"
)
"""A number with a unit that, in prose, is usually a measurement."""

ISSUE_NUMBER = re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE)


def _kib(size_bytes: int) -> str:
    return f"{size_bytes // 1024} KiB"


def _lte_ms(*names: str) -> set[str]:
    return {f"{round(LTE[name] * 1000, 6):g} ms" for name in names}


FACTS_FROM_CODE: dict[str, Callable[[], set[str]]] = {
    # The lesson's empty-poll probability, e^(−λT) at the lesson's rate and poll interval.
    "61 %": lambda: {f"{100 * math.exp(-LESSON_PUBLISH_RATE * POLL_INTERVAL_S):.0f} %"},
    # The capacity search's criterion (bench/measuring/capacity.py).
    "98%": lambda: {f"{DELIVERED_FRACTION:.0%}"},
    "500 ms": lambda: {f"{P99_LIMIT_MS:g} ms"},
    # The network sweep's RTTs by default and in --full, and the fault sweep's peak window.
    "100 ms": lambda: {f"{rtt:g} ms" for rtt in settings_for("default").of("network").rtts_ms},
    "300 ms": lambda: {f"{max(settings_for('full').of('network').rtts_ms):g} ms"},
    # The slow sweep's texts, and the broadcast's high-water mark.
    "4 KiB": lambda: {_kib(settings_for("default").of("slow").text_bytes)},
    "64 KiB": lambda: {_kib(DEFAULT_HIGH_WATER_BYTES)},
    # The most messages' JSON one poll answer holds (servers/answers.py).
    "256 KiB": lambda: {_kib(MAX_ANSWER_BYTES)},
    # The peers' memory target: RSS per WebSocket client (bench/analysis/peer_ranking.py).
    "10 KiB": lambda: {f"{RSS_TARGET_KB:g} KiB"},
    # ARO's LTE profile (pushlab/radio_profiles.py): short DRX and its cycle, a DRX wake-up,
    # the long DRX cycle, an idle paging wake-up.
    "20 ms": lambda: _lte_ms("short_drx_s", "short_drx_period_s"),
    "2 ms": lambda: _lte_ms("drx_ping_s"),
    "40 ms": lambda: _lte_ms("long_drx_period_s"),
    "43 ms": lambda: _lte_ms("idle_ping_s"),
}
"""Unit-bearing phrases the docs may use outside blocks: each is a setting of the code, and the
function gives the phrase(s) the code's constant spells today."""


def _typed_text(document: Path) -> str:
    """What a person wrote in ``document``: generated blocks (figures, columns) removed."""
    text = quotes.outside_blocks(document.read_text(encoding="utf-8"))
    if contract.BEGIN in text:
        head, _, rest = text.partition(contract.BEGIN)
        text = head + rest.partition(contract.END)[2]
    return text


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_quoted_figure_is_what_its_results_directory_gives(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    assert quotes.refreshed(text, document, ROOT) == text, (
        f"{document.name}: a generated block differs from its results directory: run `make docs`"
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_measured_figure_stands_outside_a_block(document: Path) -> None:
    found = {m.group(0) for m in MEASURED.finditer(_typed_text(document))}
    unexplained = sorted(found - set(FACTS_FROM_CODE))
    assert not unexplained, (
        f"{document.name}: {unexplained} look like measured figures typed by hand; quote them "
        "from a committed results directory (bench/presentation/quotes.py) or, if they are a "
        "setting of the code, add them to FACTS_FROM_CODE with the constant they come from"
    )


@pytest.mark.parametrize("phrase", sorted(FACTS_FROM_CODE))
def test_facts_quoted_from_code_still_match_the_code(phrase: str) -> None:
    assert phrase in FACTS_FROM_CODE[phrase](), f"the code no longer says {phrase!r}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_page_cites_an_issue_number(document: Path) -> None:
    cited = ISSUE_NUMBER.findall(document.read_text(encoding="utf-8"))
    assert not cited, f"{document.name} cites {cited}: say what the thing is instead"


def test_the_readme_quotes_a_table_and_the_bench_time() -> None:
    blocks = {m["quote"] for m in quotes.BLOCK.finditer((ROOT / "README.md").read_text())}
    assert {"readme-table", "wall-time"} <= blocks


def test_every_quoted_directory_is_committed() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell what is committed")
    sources = {
        m["source"] for doc in DOCUMENTS for m in quotes.BLOCK.finditer(doc.read_text("utf-8"))
    }
    assert sources, "no document quotes a results directory"
    for source in sorted(sources):
        for name in ("summary.csv", "environment.json", "report.md"):
            tracked = subprocess.run(
                ["git", "ls-files", "--error-unmatch", f"{source}/{name}"],
                cwd=ROOT,
                capture_output=True,
            )
            assert tracked.returncode == 0, f"{source}/{name} is quoted but not committed"


# --- The mechanism itself, on a document of our own ------------------------------------------

SAMPLE = "results/sample"


def _document(tmp_path: Path, body: str = "") -> Path:
    document = tmp_path / "docs" / "page.md"
    document.parent.mkdir()
    document.write_text(
        f"Intro.\n\n<!-- figures:{SAMPLE}:readme-table -->\n{body}<!-- /figures -->\n\nEnd.\n",
        encoding="utf-8",
    )
    return document


def test_a_block_is_filled_from_its_directory_and_names_it(tmp_path: Path) -> None:
    document = _document(tmp_path)
    filled = quotes.refreshed(document.read_text(), document, ROOT)
    assert "| clients | technique |" in filled
    assert f"[`{SAMPLE}/`]" in filled and "report.md" in filled
    assert filled.startswith("Intro.\n") and filled.endswith("End.\n")
    assert quotes.refreshed(filled, document, ROOT) == filled


def test_a_figure_edited_by_hand_inside_a_block_is_found(tmp_path: Path) -> None:
    document = _document(tmp_path)
    filled = quotes.refreshed(document.read_text(), document, ROOT)
    edited = re.sub(r"\| 722 \|", "| 650 |", filled, count=1)
    assert edited != filled
    document.write_text(edited, encoding="utf-8")
    argv = ["--root", str(ROOT), "--check", str(document)]
    assert quotes.main(argv) == 1
    assert document.read_text() == edited  # --check changes nothing
    assert quotes.main(["--root", str(ROOT), str(document)]) == 0
    assert document.read_text() == filled


def test_source_repoints_every_block(tmp_path: Path) -> None:
    document = tmp_path / "page.md"
    document.write_text("<!-- figures:results/elsewhere:wall-time -->\n<!-- /figures -->\n")
    assert quotes.main(["--root", str(ROOT), "--source", f"{SAMPLE}/", str(document)]) == 0
    text = document.read_text()
    assert text.startswith(f"<!-- figures:{SAMPLE}:wall-time -->\nThe run took ")


def test_an_unknown_quote_or_directory_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for marker in (f"{SAMPLE}:no-such-quote", "results/no-such-run:findings"):
        document = tmp_path / "page.md"
        document.write_text(f"<!-- figures:{marker} -->\n<!-- /figures -->\n")
        assert quotes.main(["--root", str(ROOT), str(document)]) == 1
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "page.md" in error
