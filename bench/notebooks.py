"""Run every notebook top to bottom and render an HTML copy of each, with its outputs.

``make notebooks`` (``python -m bench.notebooks``) executes ``notebooks/*.ipynb`` with nbclient,
each in a fresh kernel started in ``notebooks/`` (as JupyterLab would), and writes
``results/notebooks/NN_name.html``. The committed ``.ipynb`` files keep no outputs (they are
reviewed as their jupytext ``.py`` pairs), so these HTML copies are where the outputs live.

The kernel is ``pushlab`` (installed into ``.venv`` by ``make install``) when it runs this very
interpreter; otherwise ipykernel's own kernel for this interpreter, so the notebooks always see
the packages installed here. A failing cell stops its notebook with the cell's traceback; the
other notebooks still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbclient and nbconvert load only when a notebook is run, not in a kernel
    import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO / "notebooks"
RESULTS_ROOT = REPO / "results"
DEFAULT_OUT = RESULTS_ROOT / "notebooks"
RESULTS_ENV = "PUSHLAB_RESULTS"
PROJECT_KERNEL = "pushlab"
CELL_TIMEOUT_S = 120


def results_dir() -> Path:
    """The bench run the notebooks read: ``$PUSHLAB_RESULTS``, else ``results/latest``, else
    the small real run committed as ``results/sample``.

    The variable lets a test (or you) point the notebooks at one particular run.
    """
    chosen = os.environ.get(RESULTS_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not (path / "summary.csv").is_file():
            raise FileNotFoundError(f"{RESULTS_ENV}={chosen} is not a bench results directory")
        return path.resolve()
    for candidate in (RESULTS_ROOT / "latest", RESULTS_ROOT / "sample"):
        if (candidate / "summary.csv").is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        "no bench results yet: run `make bench` (or `python -m bench --quick`),"
        f" or set {RESULTS_ENV} to a results directory"
    )


@dataclass
class NotebookRun:
    """One notebook's execution: where it came from, how long it took, what went wrong."""

    path: Path
    seconds: float
    notebook: nbformat.NotebookNode
    error: str | None = None
    html_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def show(draw, *args, **kwargs) -> None:
    """In a notebook: display one of the report's figures, or say why this run cannot draw it."""
    from IPython.display import Markdown, display

    try:
        display(draw(*args, **kwargs))
    except ValueError as missing:
        display(
            Markdown(
                f"_This run has no data for this figure ({missing}); `make bench`"
                " measures every sweep._"
            )
        )


def notebook_paths(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The lab's notebooks in reading order (their names start with 01_, 02_, ...)."""
    return sorted(p for p in directory.glob("*.ipynb") if not p.name.startswith("."))


def kernel_name() -> str:
    """``pushlab`` if that kernel runs this interpreter, else ipykernel's kernel for it.

    ipykernel's built-in ``python3`` spec starts ``sys.executable`` (jupyter_client swaps a
    bare ``python`` for it), so either way the notebook sees this environment's packages.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(PROJECT_KERNEL)
    except NoSuchKernel:
        return "python3"
    same_env = Path(spec.argv[0]).absolute().parent == Path(sys.executable).absolute().parent
    return PROJECT_KERNEL if same_env else "python3"


def execute(
    path: Path,
    *,
    timeout_s: int = CELL_TIMEOUT_S,
    kernel: str | None = None,
    cwd: Path | None = None,
) -> NotebookRun:
    """Execute one notebook top to bottom in a fresh kernel; never raises for a failing cell.

    The kernel starts in ``cwd`` (default: the notebook's own directory, as in JupyterLab).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout_s,
        kernel_name=kernel or kernel_name(),
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure)
    except Exception as failure:  # a dead kernel or a timeout: report it like a failing cell
        error = f"{type(failure).__name__}: {failure}"
    return NotebookRun(path, time.perf_counter() - started, notebook, error)


def render_html(run: NotebookRun, out_dir: Path) -> Path:
    """Write the executed notebook as a standalone HTML page (figures embedded)."""
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        run.notebook, resources={"metadata": {"name": run.path.stem}}
    )
    html_path = out_dir / f"{run.path.stem}.html"
    html_path.write_text(body, encoding="utf-8")
    run.html_path = html_path
    return html_path


def run_all(
    paths: list[Path], out_dir: Path, *, timeout_s: int = CELL_TIMEOUT_S
) -> list[NotebookRun]:
    """Execute and render each notebook; a failing one is rendered too, up to its error."""
    runs = []
    kernel = kernel_name()
    for path in paths:
        run = execute(path, timeout_s=timeout_s, kernel=kernel)
        render_html(run, out_dir)
        runs.append(run)
        status = "ok" if run.ok else "FAILED"
        print(f"{status:6} {path.name:40} {run.seconds:6.1f} s → {run.html_path}", flush=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.notebooks",
        description="Execute the notebooks top to bottom and render HTML copies with outputs.",
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"HTML directory (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds allowed per cell"
    )
    parser.add_argument(
        "--results",
        type=Path,
        help="bench results directory the notebooks read (sets PUSHLAB_RESULTS;"
        " default: results/latest, else results/sample)",
    )
    args = parser.parse_args(argv)
    if args.results is not None:
        os.environ[RESULTS_ENV] = str(args.results.resolve())
    paths = [p.resolve() for p in args.notebooks] or notebook_paths()
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS_DIR}", file=sys.stderr)
        return 1
    runs = run_all(paths, args.out, timeout_s=args.timeout)
    failed = [run for run in runs if not run.ok]
    for run in failed:
        print(f"\n=== {run.path.name} failed ===\n{run.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
