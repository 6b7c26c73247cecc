"""The notebooks: they run top to bottom in the project's kernel, are committed without outputs,
match their jupytext pairs, and ``make notebooks`` renders them to HTML.

Notebooks 01, 03 and 04 read bench results. The tests point them (through ``PUSHLAB_RESULTS``) at
``$PUSHLAB_RESULTS`` if set, else the committed ``results/sample``, else a quick bench run made
here — never at ``results/latest``, which changes with every ``make bench``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from pushlab.bench import notebooks as runner

NOTEBOOKS = runner.notebook_paths()
NAMES = [path.stem for path in NOTEBOOKS]
EXPECTED = ["01_comparison", "02_handshake_and_frames", "03_polling_math", "04_phone_radio"]
CJK = re.compile(r"[\u4e00-\u9fff]")

# Appended to each notebook before it runs: the kernel reports what it imported.
IMPORT_PROBE = (
    "import json, sys\n"
    "print('PROBE' + json.dumps(sorted(m for m in ('locust', 'gevent') if m in sys.modules)))"
)


def test_the_four_notebooks_exist() -> None:
    assert NAMES == EXPECTED


@pytest.fixture(scope="module")
def results_for_notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real bench results directory for the notebooks that read one."""
    chosen = os.environ.get(runner.RESULTS_ENV)
    if chosen:
        return Path(chosen).resolve()
    sample = runner.RESULTS_ROOT / "sample"
    if (sample / "summary.csv").is_file():
        return sample.resolve()  # the kernels run in notebooks/: a relative path would not do
    out = tmp_path_factory.mktemp("bench") / "quick"
    subprocess.run(
        [sys.executable, "-m", "pushlab.bench", "--quick", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


@pytest.fixture(scope="module")
def executed(
    results_for_notebooks: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, runner.NotebookRun]:
    """Every notebook executed once, top to bottom, with the import probe as its last cell.

    One after another: nbclient's kernels driven from several threads at once were seen to
    hang the fixture (no kernel left running, the threads waiting) on a fresh clone."""
    html_dir = tmp_path_factory.mktemp("html")
    previous = os.environ.get(runner.RESULTS_ENV)
    os.environ[runner.RESULTS_ENV] = str(results_for_notebooks)

    def execute(path: Path) -> runner.NotebookRun:
        probed = tmp_path_factory.mktemp(path.stem) / path.name
        notebook = nbformat.read(path, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(IMPORT_PROBE))
        nbformat.write(notebook, probed)
        return runner.execute(probed, cwd=runner.NOTEBOOKS_DIR)

    runs = {}
    try:
        for path in NOTEBOOKS:
            run = execute(path)
            run.path = path  # name the HTML after the real notebook
            runner.render_html(run, html_dir)
            runs[path.stem] = run
    finally:
        if previous is None:
            os.environ.pop(runner.RESULTS_ENV, None)
        else:
            os.environ[runner.RESULTS_ENV] = previous
    return runs


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom_without_error(
    executed: dict[str, runner.NotebookRun], name: str
) -> None:
    run = executed[name]
    assert run.ok, f"{name} failed after {run.seconds:.1f} s:\n{run.error}"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_never_imports_locust(executed: dict[str, runner.NotebookRun], name: str) -> None:
    """Locust's import monkey-patches the standard library with gevent (FIELD-NOTES)."""
    run = executed[name]
    assert run.ok, run.error
    printed = "".join(
        output.get("text", "") for output in run.notebook.cells[-1].outputs if "text" in output
    )
    probe = printed.split("PROBE", 1)[1]
    assert json.loads(probe) == []


@pytest.mark.parametrize("name", EXPECTED)
def test_html_copy_holds_the_outputs(executed: dict[str, runner.NotebookRun], name: str) -> None:
    run = executed[name]
    assert run.html_path is not None and run.html_path.name == f"{name}.html"
    html = run.html_path.read_text(encoding="utf-8")
    assert "data:image/png;base64" in html, "expected at least one embedded figure"
    assert "Traceback" not in html


def test_notebook_02_stops_the_server_it_started(executed: dict[str, runner.NotebookRun]) -> None:
    run = executed["02_handshake_and_frames"]
    assert run.ok, run.error
    sources = "\n".join(cell.source for cell in run.notebook.cells if cell.cell_type == "code")
    assert "port=0" in sources, "the notebook must ask for a free port"
    assert sources.rstrip().count("await server.stop()") == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs: strip them before committing"
            assert cell.execution_count is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_and_its_py_percent_pair_match(path: Path) -> None:
    pair = path.with_suffix(".py")
    assert pair.is_file(), f"missing {pair.name}: run `.venv/bin/jupytext --sync {path}`"
    from_ipynb = jupytext.read(path)
    from_py = jupytext.read(pair)
    cells = [(cell.cell_type, cell.source) for cell in from_ipynb.cells]
    assert cells == [(cell.cell_type, cell.source) for cell in from_py.cells], (
        f"{path.name} and {pair.name} differ: run `.venv/bin/jupytext --sync notebooks/*.ipynb`"
    )
    assert from_ipynb.metadata["jupytext"]["formats"] == "ipynb,py:percent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_opens_with_a_chinese_summary(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    first_markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    assert CJK.search(first_markdown.source), "the first text cell should summarise in Chinese"
    assert notebook.cells.index(first_markdown) <= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_asks_for_the_project_kernel(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == runner.PROJECT_KERNEL


def test_runner_uses_a_kernel_of_this_interpreter() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(runner.kernel_name())
    command = spec.argv[0]
    assert command == "python" or Path(command).parent == Path(sys.executable).parent


def test_runner_reports_a_failing_notebook_and_still_renders_it(tmp_path: Path) -> None:
    broken = tmp_path / "99_broken.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("print('before the error')"),
        nbformat.v4.new_code_cell("1 / 0"),
    ]
    nbformat.write(notebook, broken)
    status = runner.main([str(broken), "--out", str(tmp_path / "html")])
    assert status == 1
    html = (tmp_path / "html" / "99_broken.html").read_text(encoding="utf-8")
    assert "before the error" in html and "ZeroDivisionError" in html


def test_results_dir_honours_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "summary.csv").write_text("scenario\n")
    monkeypatch.setenv(runner.RESULTS_ENV, str(tmp_path))
    assert runner.results_dir() == tmp_path.resolve()


def test_results_dir_rejects_a_directory_without_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(runner.RESULTS_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="not a bench results directory"):
        runner.results_dir()


def test_a_notebook_named_without_its_folder_is_found_in_notebooks_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "02_frames.ipynb")
    args = runner.parse_args(["--notebooks", str(folder), "02_frames"], "pushlab notebooks")
    assert runner.chosen_notebooks(args, "pushlab notebooks") == [folder / "02_frames.ipynb"]
    missing = runner.parse_args(["--notebooks", str(folder), "03_nope"], "pushlab notebooks")
    assert runner.chosen_notebooks(missing, "pushlab notebooks") is None
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no notebook 03_nope" in error and "02_frames" in error
