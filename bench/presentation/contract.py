"""The column list of ``docs/CONTRACT.md``, generated from the columns' own metadata.

The block between ``<!-- columns:begin -->`` and ``<!-- columns:end -->`` is this module's
:func:`columns_markdown`; ``python -m pushlab.bench.presentation.contract docs/CONTRACT.md``
writes it again, and a test fails when the document and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pushlab.bench.analysis.row import core_columns
from pushlab.bench.core.sweep import registered

BEGIN, END = "<!-- columns:begin -->", "<!-- columns:end -->"


def columns_markdown() -> str:
    """Every column of ``summary.csv`` in file order: who writes it, its kind, unit, meaning."""
    lines = ["| column | from | kind | unit | meaning |", "|---|---|---|---|---|"]
    owners = [("core", column) for column in core_columns().values()]
    seen = set(core_columns())
    for sweep in registered():
        for column in sweep.columns:
            if column.name not in seen:
                seen.add(column.name)
                owners.append((f"{sweep.name} sweep", column))
    for owner, column in owners:
        meaning = column.description.replace("|", "\\|")
        kind = column.kind.__name__
        lines.append(f"| `{column.name}` | {owner} | {kind} | {column.unit} | {meaning} |")
    return "\n".join(lines)


def with_columns(document: str) -> str:
    """``document`` with its generated block replaced by the current one."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{columns_markdown()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "docs/CONTRACT.md")
    path.write_text(with_columns(path.read_text()))
    print(f"{path}: the column list written from the columns' metadata")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
