"""Run every notebook top to bottom and render an HTML copy of each, with its outputs.

``pushlab notebooks`` (``make notebooks``) executes ``notebooks/*.ipynb`` with nbclient, each in
a fresh kernel started in ``notebooks/`` (as JupyterLab would), and writes
``results/notebooks/NN_name.html``. The committed ``.ipynb`` files keep no outputs (they are
reviewed as their jupytext ``.py`` pairs), so these HTML copies are where the outputs live.

Paths are relative to the current directory, never to this file: installed from a wheel, this
module sits in site-packages, far from any checkout. The notebooks come with the repository, not
with the package, so the command looks for ``notebooks/`` in the current directory and its
parents (or takes ``--notebooks DIR``); results are ``./results``, as the bench writes them.

The kernel is ``pushlab`` (installed into ``.venv`` by ``make install``) when it runs this very
interpreter; otherwise ipykernel's own kernel for this interpreter, so the notebooks always see
the packages installed here. A failing cell stops its notebook with the cell's traceback; the
other notebooks still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pushlab.command_line import CommandParser

if TYPE_CHECKING:  # nbclient and nbconvert load only when a notebook is run, not in a kernel
    import nbformat

NOTEBOOKS_DIR = Path("notebooks")
RESULTS_ROOT = Path("results")
DEFAULT_OUT = RESULTS_ROOT / "notebooks"
RESULTS_ENV = "PUSHLAB_RESULTS"
PROJECT_KERNEL = "pushlab"
CELL_TIMEOUT_S = 120
NOTEBOOK_MODULES = ("nbclient", "nbformat", "nbconvert", "ipykernel", "jupyter_client")
"""What running and rendering a notebook imports: the ``notebooks`` extra of pyproject.toml."""


def here_and_above() -> list[Path]:
    """The current directory and its parents: where a checkout's folders are looked for.

    A kernel starts in ``notebooks/``, and the results sit beside it, one level up.
    """
    cwd = Path.cwd()
    return [cwd, *cwd.parents]


def results_dir() -> Path:
    """The bench run the notebooks read: ``$PUSHLAB_RESULTS``, else ``results/latest``, else
    the small real run committed as ``results/sample`` (in the current directory or above).

    The variable lets a test (or you) point the notebooks at one particular run.
    """
    chosen = os.environ.get(RESULTS_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not (path / "summary.csv").is_file():
            raise FileNotFoundError(f"{RESULTS_ENV}={chosen} is not a bench results directory")
        return path.resolve()
    for base in here_and_above():
        for candidate in (base / RESULTS_ROOT / "latest", base / RESULTS_ROOT / "sample"):
            if (candidate / "summary.csv").is_file():
                return candidate.resolve()
    raise FileNotFoundError(
        "no bench results yet: run `pushlab bench` (or `pushlab bench --quick`),"
        f" or set {RESULTS_ENV} to a results directory"
    )


def find_notebooks_dir() -> Path | None:
    """The checkout's ``notebooks/`` (with at least one notebook), here or in a parent."""
    for base in here_and_above():
        if notebook_paths(base / NOTEBOOKS_DIR):
            return base / NOTEBOOKS_DIR
    return None


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
                f"_This run has no data for this figure ({missing}); `pushlab bench`"
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
        resources={"metadata": {"path": str((cwd or path.parent).resolve())}},
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


def parse_args(argv: list[str] | None, prog: str) -> argparse.Namespace:
    parser = CommandParser(
        prog=prog,
        description="Execute the notebooks top to bottom and render HTML copies with outputs.",
        epilog="The notebooks come with the repository, not with the installed package: run "
        "this inside a checkout (it looks for notebooks/ here and in the parent directories) "
        "or name the folder with --notebooks.",
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)"
    )
    parser.add_argument(
        "--notebooks",
        dest="notebooks_dir",
        type=Path,
        metavar="DIR",
        help="the folder of notebooks to run (default: notebooks/ here or above)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"HTML directory (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT_S, metavar="S", help="seconds allowed per cell"
    )
    parser.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help="bench results directory the notebooks read (sets PUSHLAB_RESULTS;"
        " default: results/latest, else results/sample, here or above)",
    )
    return parser.parse_args(argv)


def chosen_notebooks(args: argparse.Namespace, prog: str) -> list[Path] | None:
    """The notebooks named, else those of ``--notebooks DIR`` or the checkout's; None (and a
    one-line reason on stderr) when there are none."""
    directory = args.notebooks_dir or find_notebooks_dir()
    if args.notebooks:
        return named_notebooks(args.notebooks, directory, prog)
    paths = notebook_paths(directory) if directory is not None else []
    if paths:
        return [p.resolve() for p in paths]
    where = directory or f"{Path.cwd()} or above (looked for {NOTEBOOKS_DIR}/)"
    print(
        f"{prog}: no notebooks in {where}: they come with the repository, not with"
        " the installed package: run this in a checkout, or pass --notebooks DIR",
        file=sys.stderr,
    )
    return None


def named_notebooks(names: list[Path], directory: Path | None, prog: str) -> list[Path] | None:
    """Each name as a path, else as a notebook of ``directory`` (``.ipynb`` may be left out);
    None (and a one-line reason on stderr) when one is neither."""
    found = []
    for name in names:
        candidates = [name]
        if directory is not None and not name.is_absolute():
            candidates += [directory / name, directory / f"{name}.ipynb"]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            known = [p.stem for p in notebook_paths(directory)] if directory is not None else []
            among = f" (the notebooks in {directory}: {', '.join(known)})" if known else ""
            print(f"{prog}: no notebook {name}{among}", file=sys.stderr)
            return None
        found.append(path.resolve())
    return found


def missing_modules() -> list[str]:
    """The notebook packages this interpreter cannot import (a plain ``pip install pushlab``)."""
    return [name for name in NOTEBOOK_MODULES if importlib.util.find_spec(name) is None]


def main(argv: list[str] | None = None, prog: str = "python -m pushlab.bench.notebooks") -> int:
    args = parse_args(argv, prog)
    missing = missing_modules()
    if missing:
        print(
            f"{prog}: needs {', '.join(missing)}: pip install 'pushlab[notebooks]'"
            " (in a checkout: pip install '.[notebooks]', or make install)",
            file=sys.stderr,
        )
        return 1
    paths = chosen_notebooks(args, prog)
    if paths is None:
        return 1
    if args.results is not None:
        os.environ[RESULTS_ENV] = str(args.results.resolve())
    elif RESULTS_ENV not in os.environ:
        # The kernels start in the notebooks' folder: hand them the run found from here.
        with contextlib.suppress(FileNotFoundError):
            os.environ[RESULTS_ENV] = str(results_dir())
    runs = run_all(paths, args.out, timeout_s=args.timeout)
    failed = [run for run in runs if not run.ok]
    for run in failed:
        print(f"\n=== {run.path.name} failed ===\n{run.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
