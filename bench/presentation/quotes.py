"""Measured figures in the docs, quoted from a committed results directory and regenerated.

A figure typed into a document cannot be checked, and the next run makes it wrong. So the
README and ``docs/*.md`` hold measured figures only in generated blocks that name their source::

    <!-- figures:results/sample:readme-table -->
    (generated: do not edit)
    <!-- /figures -->

The marker names a results directory (relative to the repository root, committed with it) and
what to quote from it (:data:`QUOTES`, or ``sweep:NAME`` for one sweep's table). Every block
ends with a line linking the directory's ``report.md`` and the command that made it.

``python -m pushlab.bench.presentation.quotes README.md docs/*.md`` (``make docs``) rewrites
every block from its directory; ``--check`` only says which files would change (exit 1).
``tests/test_docs_figures.py`` fails when a block differs from what its directory gives.
Pointing the docs at a new run is the directory's name in the markers, then the command;
``--source results/NAME`` (``make docs FIGURES=results/NAME``) does both for every block.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from pushlab.bench.analysis.findings import findings
from pushlab.bench.analysis.model_findings import polling_model_finding, rate_finding
from pushlab.bench.analysis.peer_ranking import ranking_finding, targets_finding
from pushlab.bench.analysis.results import Results, load_results
from pushlab.bench.presentation.report import _wall_time_sentence, readme_table, sweep_table
from pushlab.bench.sweeps.loop import loop_finding

BLOCK = re.compile(
    r"<!-- figures:(?P<source>[^:\s]+):(?P<quote>[^\s]+) -->\n(?P<body>.*?)<!-- /figures -->",
    re.DOTALL,
)
"""A generated block: its opening marker (source directory and quote), its body, its end."""

SWEEP_PREFIX = "sweep:"


def _findings(results: Results) -> str:
    return "\n".join(f"- {text}" for text in findings(results))


def _one(finding: Callable[[Results], str | None]) -> Callable[[Results], str]:
    def quote(results: Results) -> str:
        text = finding(results)
        if text is None:
            raise QuoteError(f"{results.path} holds nothing for this quote")
        return text

    return quote


QUOTES: dict[str, Callable[[Results], str]] = {
    "readme-table": lambda results: readme_table(results.path).rstrip("\n"),
    "findings": _findings,
    "polling-model": _one(polling_model_finding),
    "rate": _one(rate_finding),
    "wall-time": _one(lambda results: _wall_time_sentence(results).strip() or None),
    "peer-ranking": _one(ranking_finding),
    "peer-targets": _one(targets_finding),
    "loop": _one(loop_finding),
}
"""What a block may quote, by the name in its marker (``sweep:NAME`` besides these)."""


class QuoteError(ValueError):
    """A block that cannot be filled: an unknown quote, a missing or unreadable directory."""


@cache
def _results(directory: Path) -> Results:
    if not directory.is_dir():
        raise QuoteError(f"{directory} is not a results directory (is it committed?)")
    return load_results(directory)


def _source_line(results: Results, source: str, document: Path, root: Path) -> str:
    report = os.path.relpath(root / source / "report.md", document.parent)
    command = results.environment.get("command", "an unrecorded command")
    return f"_Source: [`{source}/`]({Path(report).as_posix()}), made by `{command}`._"


def quote(source: str, name: str, document: Path, root: Path) -> str:
    """The body of one block: the quoted text, then its source line."""
    results = _results((root / source).resolve())
    if name.startswith(SWEEP_PREFIX):
        sweep = name.removeprefix(SWEEP_PREFIX)
        if results.sweep(sweep).empty:
            raise QuoteError(f"{source} has no rows in the {sweep!r} sweep")
        text = sweep_table(results, sweep).rstrip("\n")
    elif name in QUOTES:
        text = QUOTES[name](results)
    else:
        known = ", ".join([*QUOTES, SWEEP_PREFIX + "NAME"])
        raise QuoteError(f"unknown quote {name!r} (known: {known})")
    return f"{text}\n\n{_source_line(results, source, document, root)}\n"


def refreshed(text: str, document: Path, root: Path, source: str | None = None) -> str:
    """``text`` (the contents of ``document``) with every block regenerated from its source,
    or from ``source`` for every block when given (the marker is rewritten to name it)."""

    def fill(match: re.Match[str]) -> str:
        name = match["quote"]
        source_dir = source or match["source"]
        body = quote(source_dir, name, document.resolve(), root.resolve())
        return f"<!-- figures:{source_dir}:{name} -->\n{body}<!-- /figures -->"

    return BLOCK.sub(fill, text)


def outside_blocks(text: str) -> str:
    """``text`` with every generated block's body removed (what a person typed)."""
    return BLOCK.sub("", text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pushlab.bench.presentation.quotes",
        description="Regenerate the measured figures quoted in Markdown files.",
    )
    parser.add_argument("files", nargs="+", type=Path, help="Markdown files, e.g. README.md")
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument(
        "--source", help="point every block at this results directory first, e.g. results/NAME"
    )
    options = parser.parse_args(argv)
    stale = []
    for document in options.files:
        text = document.read_text(encoding="utf-8")
        try:
            source = options.source.rstrip("/") if options.source else None
            new = refreshed(text, document, options.root, source)
        except (QuoteError, ValueError, OSError) as error:
            print(f"{parser.prog}: {document}: {error}", file=sys.stderr)
            return 1
        if new != text:
            stale.append(document)
            if not options.check:
                document.write_text(new, encoding="utf-8")
    verb = "stale" if options.check else "rewritten"
    for document in stale:
        print(f"{document}: {verb}")
    return 1 if options.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
