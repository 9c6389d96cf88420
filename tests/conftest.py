"""Shared fixtures. Expensive ones (a graded demo cohort) are built once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.demo import DemoResult, run_demo

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MANIFEST = ROOT / "curriculum" / "program.yml"

# Broken fixture notebooks are inputs to tests, not notebooks for nbval to run.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Put back the environment a test's libraries changed behind monkeypatch's back
    (Dask's nanny sets OMP_NUM_THREADS, PYTHONHASHSEED, ... in this process): the next
    test's kernels would no longer match the session's kernel template."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _private_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test's Tandem and Jupyter state out of the real home directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TANDEM_HOME", str(home / "tandem"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
    monkeypatch.delenv("TANDEM_CURRICULUM", raising=False)


@pytest.fixture
def tiny_programme(tmp_path: Path) -> Path:
    """A copy of a minimal two-module programme; returns its manifest."""
    target = tmp_path / "programme"
    shutil.copytree(FIXTURES / "programme", target)
    return target / "curriculum" / "program.yml"


@pytest.fixture
def write_roster(tmp_path: Path) -> Callable[..., Path]:
    """Write a roster CSV from text (or bytes) and return its path."""

    def write(content: str | bytes, name: str = "roster.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


ROSTER_2_PAIRS = """id,name,email,role,department
j1,Ada Junior,ada@example.org,junior,IT
s1,Sam Senior,sam@example.org,senior,Operations
j2,Bo Junior,bo@example.org,junior,Sales
s2,Kim Senior,kim@example.org,senior,Finance
"""


@pytest.fixture
def cohort_at(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> Callable[..., Workspace]:
    """A factory: the two-pair cohort on the tiny programme at a given stage,
    ``"initialised"`` or ``"released"`` (session s1), made through the library."""

    def make(stage: str = "released", roster: str = ROSTER_2_PAIRS) -> Workspace:
        assert stage in ("initialised", "released"), stage
        init_cohort(tmp_path / "cohort", write_roster(roster), curriculum=tiny_programme)
        ws = Workspace(tmp_path / "cohort")
        if stage == "released":
            release_session(ws.root, "s1")
        return ws

    return make


@pytest.fixture
def tiny_cohort(cohort_at: Callable[..., Workspace]) -> Workspace:
    """A cohort of two pairs on the tiny programme, its one session released."""
    return cohort_at("released")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; one per test session."""
    from playwright.sync_api import sync_playwright

    from .jupyterlab import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run 'make test' (it installs it) "
            "or set TANDEM_CHROMIUM"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page; dialogs (e.g. "Leave site?") are accepted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


@pytest.fixture(scope="session")
def demo_cohort(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """A 3-pair synthetic cohort through all six sessions: released, fetched, worked,
    submitted, collected, graded and reported (built once)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    return run_demo(out, pairs=3, curriculum=MANIFEST)
