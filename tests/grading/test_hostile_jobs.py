"""Hostile submissions graded side by side with honest ones: only the guilty one suffers.

``tests/fixtures/attacks/`` holds submissions of the tiny programme's checkpoint
(``tiny-tech``: ``double(x)``, a test cell worth 2 points): ``kills_template`` kills the
process that started its kernel (the pool's kernel template, or with ``--kernels plain``
the pool worker), ``output_flood`` prints without end until the cell's timeout (5 s
here), ``huge_lines`` prints 400 lines of 1 MB. Each is graded in one run with honest
submissions, on a pool of the default size, while the run's memory is sampled. The
sandbox (:mod:`tandem.engine.sandbox`) would stop the kill; these runs turn it off to
check that the pool survives a template or worker that dies anyway.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest

from tandem.cohort.workspace import _fast_gradebook_creation
from tandem.engine.batch import RunOptions
from tandem.engine.executors import LocalExecutor, make_executor
from tandem.grading.autograde import GradeOutcome, course_api, grade
from tandem.grading.checkpoints import quiet_nbgrader

from ..conftest import FIXTURES

pytestmark = pytest.mark.slow  # real nbgrader, real kernels, real pools

ATTACKS = FIXTURES / "attacks"
MODULE = "tiny-tech"
NOTEBOOK = "checkpoint.ipynb"
HONEST = [f"honest-{i}" for i in range(1, 6)]
DOUBLE = "def double(x):\n    return 2 * x\n"
MARKER = "[Tandem: output truncated: this cell wrote more than 1 MB to stdout]"
NBGRADER_MARKER = "... Output truncated ..."  # nbgrader's LimitOutput: 1000 lines at most
PEAK_LIMIT = 1_500_000_000  # bytes of memory over the whole process tree, kernels included
PROCESS_LIMIT = 1_000_000_000  # bytes of RSS of any one of them (a worker reading 1 MB lines)


class PeakMemory:
    """The run's memory, sampled over this process and all its descendants, in PSS (each
    shared page counted once, shared out: forked kernels share most of the template's
    pages, which a sum of RSS would count once per kernel). ``peak``: the whole tree, the
    kernels included (what a cell prints is dropped in its kernel beyond twice the
    client's limit, :mod:`tandem.engine.kernelcap`, rather than buffered by ipykernel);
    ``kernels``: the kernels' share of it at its highest."""

    def __init__(self, every: float = 0.1) -> None:
        self.every, self.peak, self.kernels, self.largest = every, 0, 0, 0
        self.at_peak: list[str] = []  # the run's processes at the peak, largest first
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self.every):
            sizes, kernels = [], 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    if _not_of_the_run(process, me):
                        continue
                    memory = process.memory_full_info()
                    command = process.cmdline()
                    kernel = _is_kernel(process, command)
                except psutil.Error:  # ended meanwhile
                    continue
                name = "kernel" if kernel else " ".join(command[1:4])[:60]
                sizes.append((memory.pss, f"{process.pid} {name}: {memory.pss / 1e6:.0f} MB"))
                if kernel:
                    kernels += memory.pss
                else:  # a kernel's RSS counts the template's pages it shares
                    self.largest = max(self.largest, memory.rss)
            total = sum(size for size, _ in sizes)
            if total > self.peak:
                self.peak, self.kernels = total, kernels
                self.at_peak = [text for _, text in sorted(sizes, reverse=True)]

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _not_of_the_run(process: psutil.Process, me: psutil.Process) -> bool:
    """The browser tests' Chromium and its Playwright driver (a session-wide fixture that
    lives under this test process too): not part of the grading run being measured."""
    for ancestor in [process, *process.parents()]:
        if ancestor.pid == me.pid:
            return False
        if any("playwright" in part for part in ancestor.cmdline()):
            return True
    return False


def _is_kernel(process: psutil.Process, command: list[str]) -> bool:
    """A cold kernel, or one forked from a template (its command line is the template's,
    and its parent is the template)."""
    if "ipykernel_launcher" in command:
        return True
    if "tandem.engine.forkserver" not in command:
        return False
    parent = process.parent()
    return parent is not None and "tandem.engine.forkserver" in parent.cmdline()


Graded = tuple[Path, dict[str, GradeOutcome], LocalExecutor, PeakMemory]


@pytest.fixture(scope="module")
def attacks_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny checkpoint released by nbgrader (cells time out after 5 s), with the
    honest submissions and every attack submitted."""
    _fast_gradebook_creation()
    course = tmp_path_factory.mktemp("attacks") / "base"
    shutil.copytree(FIXTURES / "programme" / "exercises" / MODULE, course / "source" / MODULE)
    config = {"CourseDirectory": {"course_id": "attacks"}, "Execute": {"timeout": 5}}
    (course / "nbgrader_config.json").write_text(json.dumps(config))
    result = course_api(course).generate_assignment(MODULE, force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    release = nbformat.read(course / "release" / MODULE / NOTEBOOK, 4)
    honest = copy.deepcopy(release)
    answer = next(c for c in honest.cells if c.metadata["nbgrader"]["grade_id"] == "answer")
    answer.source = DOUBLE
    for student in HONEST:
        folder = course / "submitted" / student / MODULE
        folder.mkdir(parents=True)
        nbformat.write(honest, folder / NOTEBOOK)
    for attack in ATTACKS.glob("*.ipynb"):
        folder = course / "submitted" / attack.stem / MODULE
        folder.mkdir(parents=True)
        shutil.copy(attack, folder / NOTEBOOK)
    return course


def grade_all(base: Path, name: str, students: list[str], kernels: str) -> Graded:
    """Grade ``students`` on a copy of ``base`` with a new pool: (course, outcomes by
    student, the pool (closed), the run's memory)."""
    course = base.parent / name
    shutil.copytree(base, course)
    with PeakMemory() as memory:
        pool = make_executor("local", kernels=kernels, kinds=("autograde",))
        assert isinstance(pool, LocalExecutor)
        try:
            with quiet_nbgrader():
                outcomes = grade(
                    course_api(course),
                    [(MODULE, s) for s in students],
                    # no sandbox: it would refuse the kill, and the pool must survive it
                    options=RunOptions(kernels=kernels, progress=False, sandbox="off"),
                    executor=pool,
                )
        finally:
            pool.close()
    return course, {o.student: o for o in outcomes}, pool, memory


@pytest.fixture(scope="module")
def graded_fork(
    attacks_course: Path,
) -> Iterator[Graded]:
    students = ["kills_template", *HONEST, "output_flood", "huge_lines"]
    yield grade_all(attacks_course, "fork", students, "fork")


def autograded_answer(course: Path, student: str) -> tuple[int, str]:
    """(size of the autograded notebook in bytes, the answer cell's stdout text)."""
    path = course / "autograded" / student / MODULE / NOTEBOOK
    node = nbformat.read(path, 4)
    answer = next(c for c in node.cells if c.metadata["nbgrader"]["grade_id"] == "answer")
    text = "".join(o.get("text", "") for o in answer.outputs if o.output_type == "stream")
    return path.stat().st_size, text


def test_killing_the_kernel_template_fails_only_the_guilty_submission(
    graded_fork: Graded,
) -> None:
    course, outcomes, pool, _ = graded_fork
    guilty = outcomes["kills_template"]
    assert pool.deaths == ["the kernel template", "the kernel template"]
    assert guilty.status == "failed"
    assert guilty.reason == "checkpoint: in flight when the kernel template died twice"
    assert not any((course / "autograded" / "kills_template").rglob("*.ipynb"))
    for student in HONEST:
        assert outcomes[student].status == "graded", outcomes[student].reason
        assert outcomes[student].score == 2.0


def test_submissions_in_flight_at_the_template_death_are_graded_again(
    graded_fork: Graded,
) -> None:
    _, outcomes, _, _ = graded_fork
    rerun = [s for s in HONEST if outcomes[s].note]
    assert rerun, "no honest submission was in flight when the template died"
    for student in rerun:
        assert "in flight when the kernel template died; ran again" in str(outcomes[student].note)


def test_an_endless_print_loop_is_cut_with_a_marker_and_still_graded(
    graded_fork: Graded,
) -> None:
    course, outcomes, _, _ = graded_fork
    assert outcomes["output_flood"].status == "graded", outcomes["output_flood"].reason
    assert outcomes["output_flood"].score == 2.0  # double() was defined before the loop
    size, text = autograded_answer(course, "output_flood")
    assert size < 3_000_000  # 1 MB of the stream, JSON-escaped, plus the rest
    # Tandem's marker ends the 1 MB kept; nbgrader's LimitOutput then keeps 1000 lines
    assert text.endswith((MARKER + "\n", NBGRADER_MARKER))
    assert 900_000 < len(text) < 1_100_000


def test_huge_lines_are_cut_to_one_megabyte(graded_fork: Graded) -> None:
    """400 lines of 1 MB: the kernel sends them for longer than nbgrader's Execute waits
    for output after a cell ends (``iopub_timeout``, 4 s), which nbgrader reports as a
    ``CellTimeoutError`` on a loaded machine; graded or not, at most 1 MB is kept."""
    course, outcomes, _, _ = graded_fork
    outcome = outcomes["huge_lines"]
    if outcome.status == "failed":
        assert "CellTimeoutError" in str(outcome.reason)
        return
    assert outcome.score == 2.0
    size, text = autograded_answer(course, "huge_lines")
    assert size < 3_000_000
    assert text.endswith(MARKER + "\n")
    assert 900_000 < len(text) < 1_100_000


def test_the_runs_memory_stays_bounded_whatever_a_submission_prints(
    graded_fork: Graded,
) -> None:
    *_, memory = graded_fork
    peak = f"the run's peak: {memory.peak / 1e6:.0f} MB, kernels {memory.kernels / 1e6:.0f} MB"
    assert 0 < memory.kernels < memory.peak < PEAK_LIMIT, f"{peak}: {memory.at_peak}"
    print(f"{peak}: {memory.at_peak}")
    assert memory.largest < PROCESS_LIMIT, f"one process: {memory.largest / 1e6:.0f} MB"


def test_with_plain_kernels_a_killed_worker_fails_only_the_guilty_submission(
    attacks_course: Path,
) -> None:
    """Cold kernels are children of their pool worker: the kill breaks the process pool
    (``BrokenProcessPool`` for every job in flight); the pool is made again."""
    students = [*HONEST[:3], "kills_template", *HONEST[3:]]
    _, outcomes, pool, _ = grade_all(attacks_course, "plain", students, "plain")
    assert pool.deaths == ["a pool worker", "a pool worker"]
    guilty = outcomes["kills_template"]
    assert guilty.status == "failed"
    assert guilty.reason == "checkpoint: in flight when a pool worker died twice"
    for student in HONEST:
        assert outcomes[student].status == "graded", outcomes[student].reason
        assert outcomes[student].score == 2.0
