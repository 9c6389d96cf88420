"""The batch engine at cohort scale: isolation, retries, timeouts, resume, Dask, the CLI.

Real papermill, real ipykernel kernels (fork-started from the template, or cold), real
worker pools and a real Dask LocalCluster. No timings are asserted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil  # type: ignore[import-untyped]
import pytest

from tandem.demo import DemoResult
from tandem.engine.batch import Job, JobRecord, RunOptions, load_job_table, run_jobs, table_jobs
from tandem.errors import BatchError, TandemError

MEDDLE = """\
import json, os, sys
import matplotlib, pandas
LEAKED_GLOBAL = 1
os.environ["TANDEM_LEAK"] = "1"
os.chdir("/")
json.tandem_leak = 1
matplotlib.rcParams["lines.linewidth"] = 9
pandas.set_option("display.max_rows", 3)
sys.path.append("/tandem-leak")
"""

PROBE = """\
import json, os, sys
import matplotlib, pandas
from pathlib import Path
from ipykernel.kernelapp import IPKernelApp
parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().replace(b"\\0", b" ").decode()
print(json.dumps({
    "global": "LEAKED_GLOBAL" in globals(),
    "env": os.environ.get("TANDEM_LEAK"),
    "cwd_is_root": os.getcwd() == "/",
    "module_attr": hasattr(json, "tandem_leak"),
    "linewidth": matplotlib.rcParams["lines.linewidth"],
    "max_rows": pandas.get_option("display.max_rows"),
    "sys_path": "/tandem-leak" in sys.path,
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "parent": parent,
    "transport": IPKernelApp.instance().transport,
    "label": label,
}))
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
"""


def notebook(path: Path, *cells: str, parameters: str = "label = ''") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def stdout_of(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    )


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("books")
    return {
        "meddle": notebook(root / "meddle.ipynb", MEDDLE),
        "probe": notebook(root / "probe.ipynb", PROBE),
        "die_once": notebook(
            root / "die_once.ipynb",
            "import os, pathlib\n"
            "if not pathlib.Path(marker).exists():\n"
            "    pathlib.Path(marker).write_text('died once')\n"
            "    os.kill(os.getpid(), 9)",
            "print('survived')",
            parameters="marker = ''",
        ),
        "die_always": notebook(root / "die_always.ipynb", "import os\nos.kill(os.getpid(), 9)"),
        "slow_cell": notebook(root / "slow_cell.ipynb", "import time\ntime.sleep(60)"),
        "slow_notebook": notebook(
            root / "slow_notebook.ipynb", *["import time\ntime.sleep(1)"] * 30
        ),
        "sleep": notebook(
            root / "sleep.ipynb",
            "import time\ntime.sleep(0.4)\nprint(label)",
            parameters="label = ''",
        ),
    }


def isolation_jobs(books: dict[str, Path], out: Path) -> list[Job]:
    jobs = []
    for n in range(3):
        for kind in ("meddle", "probe"):
            jobs.append(
                Job(
                    id=f"{kind}-{n}",
                    notebook=books[kind],
                    output=out / f"{kind}-{n}.ipynb",
                    parameters={"label": f"{kind}-{n}"},
                )
            )
    return jobs


@pytest.mark.parametrize("kernels", ["fork", "plain"])
def test_nothing_one_job_does_is_visible_to_the_next(
    books: dict[str, Path], tmp_path: Path, kernels: str
) -> None:
    """One worker runs meddle, probe, meddle, probe...: each probe sees a pristine kernel."""
    records = run_jobs(
        isolation_jobs(books, tmp_path),
        tmp_path / "manifest.json",
        options=RunOptions(workers=1, kernels=kernels, progress=False),
    )
    assert [r.status for r in records] == ["done"] * 6, [r.error for r in records]
    probes = [json.loads(stdout_of(tmp_path / f"probe-{n}.ipynb")) for n in range(3)]
    for seen in probes:
        assert seen["global"] is False
        assert seen["env"] is None
        assert seen["cwd_is_root"] is False
        assert seen["module_attr"] is False
        assert seen["linewidth"] != 9
        assert seen["max_rows"] != 3
        assert seen["sys_path"] is False
    assert len({seen["pid"] for seen in probes}) == 3, "every job gets its own kernel"
    for n in range(3):  # matplotlib's inline backend works in every kernel, forked or not
        plotted = nbformat.read(tmp_path / f"probe-{n}.ipynb", as_version=4).cells[-1].outputs
        assert any("image/png" in o.get("data", {}) for o in plotted)
    forked = ["tandem.engine.forkserver" in seen["parent"] for seen in probes]
    assert forked == [kernels == "fork"] * 3
    # Unix sockets, not TCP ports that kernels started side by side could both pick.
    assert {seen["transport"] for seen in probes} == {"ipc"}


def test_workers_share_one_kernel_template(books: dict[str, Path], tmp_path: Path) -> None:
    """Two workers, one template: every kernel is forked from the same process, and
    jobs run side by side on two workers still see pristine kernels."""
    records = run_jobs(
        isolation_jobs(books, tmp_path),
        tmp_path / "manifest.json",
        options=RunOptions(workers=2, kernels="fork", progress=False),
    )
    assert [r.status for r in records] == ["done"] * 6, [r.error for r in records]
    probes = [json.loads(stdout_of(tmp_path / f"probe-{n}.ipynb")) for n in range(3)]
    assert len({seen["ppid"] for seen in probes}) == 1
    assert all("tandem.engine.forkserver --listen-fd" in seen["parent"] for seen in probes), probes[
        0
    ]
    assert all(seen["global"] is False and seen["env"] is None for seen in probes)


def test_the_slow_jsonschema_import_is_deferred_not_changed() -> None:
    """Tandem's processes do not pay rfc3987_syntax's ~2 s import until an IRI is checked,
    and IRI checks give the same answers as without the stand-in."""
    code = (
        "import sys\n"
        "import tandem.cli.app, jsonschema, nbformat\n"
        "loaded = type(sys.modules['rfc3987_syntax']).__module__\n"
        "checker = jsonschema.FormatChecker()\n"
        "v = jsonschema.Draft7Validator({'format': 'iri'}, format_checker=checker)\n"
        "print(loaded, [v.is_valid(x) for x in ('http://example.org/a', 'http://a b', 'é:x')])\n"
    )
    plain = code.replace("import tandem.cli.app, ", "import ")
    deferred = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    direct = subprocess.run([sys.executable, "-c", plain], capture_output=True, text=True)
    assert deferred.returncode == direct.returncode == 0, deferred.stderr + direct.stderr
    assert deferred.stdout.split(" ", 1)[0] == "tandem.engine.lazyimport"
    assert direct.stdout.split(" ", 1)[0] != "tandem.engine.lazyimport"
    assert deferred.stdout.split(" ", 1)[1] == direct.stdout.split(" ", 1)[1]


def test_nbgrader_imports_without_setuptools_until_an_archive_is_unpacked(
    tmp_path: Path,
) -> None:
    """``nbgrader.utils`` imports setuptools (~0.25 s) for its unzip helper, which grading
    never calls. In Tandem's processes setuptools loads when an archive is unpacked, and
    nbgrader's ``unzip`` extracts the same files, and refuses the same bad archives."""
    import zipfile

    good, bad = tmp_path / "sub.zip", tmp_path / "bad.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("ps1/problem1.ipynb", "{}")
        archive.writestr("ps1/data/table.csv", "a,b\n1,2\n")
    bad.write_bytes(b"not a zip archive")
    code = (
        "import json, os, sys\n"
        "import tandem.cli.app\n"
        "from nbgrader.apps.api import NbGraderAPI\n"
        "import nbgrader.preprocessors, nbgrader.utils\n"
        "before = 'setuptools' in sys.modules\n"
        "dest = sys.argv[3]\n"
        "os.makedirs(dest)\n"
        "nbgrader.utils.unzip(sys.argv[1], dest)\n"
        "files = sorted(os.path.relpath(os.path.join(r, f), dest)\n"
        "               for r, _, fs in os.walk(dest) for f in fs)\n"
        "try:\n"
        "    nbgrader.utils.unzip(sys.argv[2], dest)\n"
        "    refused = None\n"
        "except Exception as exc:\n"
        "    refused = type(exc).__name__\n"
        "print(json.dumps([before, 'setuptools' in sys.modules, files, refused]))\n"
    )
    runs = {}
    for name, source in (
        ("deferred", code),
        ("direct", code.replace("import tandem.cli.app\n", "")),
    ):
        run = subprocess.run(
            [sys.executable, "-c", source, str(good), str(bad), str(tmp_path / name)],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        runs[name] = json.loads(run.stdout)
    assert runs["deferred"][:2] == [False, True]  # loaded by the first unzip, not before
    assert runs["direct"][:2] == [True, True]
    assert runs["deferred"][2:] == runs["direct"][2:]
    assert runs["deferred"][2] == ["ps1/data/table.csv", "ps1/problem1.ipynb"]
    assert runs["deferred"][3] is not None  # the bad archive is refused, both ways


def test_the_pool_prewarm_fills_caches_and_leaves_a_process_safe_to_fork() -> None:
    """A report pool's fork server imports ``tandem.engine.prewarm.notebooks`` before it forks
    workers: the per-process caches a first job would build are built, and nothing that
    must not cross a fork (a thread, an event loop, a zmq context, a kernel) exists."""
    code = (
        "import asyncio, json, sys, threading\n"
        "import tandem.engine.lazyimport\n"
        "import tandem.engine.prewarm.notebooks\n"
        "import zmq\n"
        "from nbformat.validator import validators\n"
        "from tandem import htmlpage\nfrom tandem.engine import kernels\n"
        "try:\n"
        "    asyncio.get_running_loop(); loop = True\n"
        "except RuntimeError:\n"
        "    loop = False\n"
        "print(json.dumps({\n"
        "    'exporter': htmlpage._exporter.cache_info().currsize,\n"
        "    'validators': sorted(key[2] for key in validators if not key[3]),\n"
        "    'ipython': 'IPython.core.interactiveshell' in sys.modules,\n"
        "    'threads': threading.active_count(),\n"
        "    'loop': loop,\n"
        "    'zmq': zmq.Context._instance is not None,\n"
        "    'kernels': len(kernels.LIVE),\n"
        "}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["exporter"] == 1  # the HTML exporter, its Jinja templates compiled
    assert seen["validators"] == [4, 5]  # nbformat 4.4 and 4.5 validators compiled
    assert seen["ipython"] is True  # the python3 kernel spec was looked up
    assert (seen["threads"], seen["loop"], seen["zmq"], seen["kernels"]) == (1, False, False, 0)


POOL_SCRIPT = """\
import os, sys
from pathlib import Path

# Module level: runs in every process that runs this script, whatever its __name__.
with open(sys.argv[1], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()} {__name__} {sys.argv[2]}\\n")

if __name__ == "__main__":
    from tandem.engine.batch import Job, RunOptions, run_jobs

    out = Path(sys.argv[2])
    jobs = [
        Job(id=f"job-{n}", notebook=Path(sys.argv[3]), output=out / f"job-{n}.ipynb",
            parameters={"label": str(n)})
        for n in range(4)
    ]
    records = run_jobs(jobs, out / "manifest.json",
                       options=RunOptions(workers=2, progress=False))
    sys.exit(0 if all(r.status == "done" for r in records) else 1)
"""


def test_a_pool_runs_the_programs_main_script_once_not_in_every_worker(
    tmp_path: Path,
) -> None:
    """Each pool worker used to run the program's main script again (multiprocessing's
    ``__mp_main__``), ~0.1-0.2 s of imports each while the pool starts. The fork server
    now runs it once, with the program's arguments, and workers find it done. Nothing
    of the hand-over reaches the jobs' kernels."""
    script = tmp_path / "script.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    probe = notebook(
        tmp_path / "env.ipynb",
        "import os\nprint(os.environ.get('TANDEM_POOL_MAIN'), label)",
    )
    log, out = tmp_path / "ran.log", tmp_path / "out"
    run = subprocess.run(
        [sys.executable, str(script), str(log), str(out), str(probe)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    runs = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    # The program itself, then the fork server (with the program's own arguments).
    assert [name for _, name, _ in runs] == ["__main__", "__mp_main__"], runs
    assert all(arg == str(out) for _, _, arg in runs)
    for n in range(4):
        assert stdout_of(out / f"job-{n}.ipynb").split() == ["None", str(n)]


def test_a_dead_kernel_is_retried_once_then_reported(
    books: dict[str, Path], tmp_path: Path
) -> None:
    jobs = [
        Job(
            id="dies-once",
            notebook=books["die_once"],
            output=tmp_path / "once.ipynb",
            parameters={"marker": str(tmp_path / "marker")},
        ),
        Job(id="dies-always", notebook=books["die_always"], output=tmp_path / "always.ipynb"),
        Job(id="cell-timeout", notebook=books["slow_cell"], output=tmp_path / "cell.ipynb"),
        Job(id="too-long", notebook=books["slow_notebook"], output=tmp_path / "long.ipynb"),
        Job(
            id="fine",
            notebook=books["sleep"],
            output=tmp_path / "fine.ipynb",
            parameters={"label": "still ran"},
        ),
    ]
    # Margins wide enough for a loaded machine: the cell timeout job ends long before the
    # notebook timeout, and the 30 one-second cells never hit the cell timeout.
    options = RunOptions(cell_timeout=2, notebook_timeout=12, progress=False)
    records = {r.id: r for r in run_jobs(jobs, tmp_path / "manifest.json", options=options)}
    once = records["dies-once"]
    assert once.status == "done" and once.note is not None
    assert "kernel died" in once.note and "ran again" in once.note
    assert "survived" in stdout_of(tmp_path / "once.ipynb")
    always = records["dies-always"]
    assert always.status == "failed" and "kernel died twice" in (always.error or "")
    cell = records["cell-timeout"]
    assert cell.status == "failed" and "timed out" in (cell.error or "").lower()
    long = records["too-long"]
    assert long.status == "failed" and "ran longer than 12 s" in (long.error or "")
    assert records["fine"].status == "done"
    assert "still ran" in stdout_of(tmp_path / "fine.ipynb")


def test_the_dask_executor_gives_the_same_results_as_local(
    books: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")  # an extra; installed by `make test`
    results = {}
    for executor in ("local", "dask"):
        out = tmp_path / executor
        jobs = isolation_jobs(books, out)
        jobs.append(
            Job(
                id="report",
                notebook=books["sleep"],
                output=out / "report.ipynb",
                parameters={"label": "from a Dask worker"},
                html=out / "report.html",
            )
        )
        records = run_jobs(
            jobs, out / "manifest.json", options=RunOptions(executor=executor, workers=2)
        )
        assert [r.status for r in records] == ["done"] * 7, [r.error for r in records]
        probes = [json.loads(stdout_of(out / f"probe-{n}.ipynb")) for n in range(3)]
        results[executor] = [
            {k: v for k, v in seen.items() if k not in ("pid", "ppid", "parent")} for seen in probes
        ]
        assert "from a Dask worker" in (out / "report.html").read_text()
    assert results["dask"] == results["local"]


def _batch_command(notebook: Path, jobs: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tandem.cli.app",
        "batch",
        str(notebook),
        "--jobs",
        str(jobs),
        "--out",
        str(out),
        "--workers",
        "1",
        *extra,
    ]


def _manifest(out: Path) -> dict[str, JobRecord]:
    path = out / "manifest.json"
    if not path.exists():
        return {}
    try:
        return {j["id"]: JobRecord(**j) for j in json.loads(path.read_text())["jobs"]}
    except ValueError:
        return {}


def _as_from_a_terminal() -> None:
    """Ctrl-C as a shell's child gets it: SIGINT handled by default and not blocked,
    whatever this long pytest session inherited or changed. (In full-suite runs the
    batch below sometimes ignored SIGINT entirely and did all its jobs; alone, never.)"""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_an_interrupted_run_resumes_with_only_the_missing_jobs(
    books: dict[str, Path], tmp_path: Path
) -> None:
    jobs = 16  # 13 still to do when interrupted: ~8 s, a wide margin on a loaded machine
    rows = tmp_path / "jobs.csv"
    rows.write_text("id,label\n" + "".join(f"p{n:02d},pair {n}\n" for n in range(jobs)))
    out = tmp_path / "out"
    command = _batch_command(books["sleep"], rows, out)
    first = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    deadline = time.monotonic() + 120
    while sum(r.status == "done" for r in _manifest(out).values()) < 3:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the batch never got going"
        time.sleep(0.1)
    # Ctrl-C half way (os.kill: Popen.send_signal polls first and sends nothing if a
    # waitpid error makes it believe the process ended). The exit status or Click's
    # "Aborted!" shows the interrupt.
    os.kill(first.pid, signal.SIGINT)
    said = first.communicate(timeout=60)
    assert first.returncode != 0 or "Aborted" in said[1], said
    done_before = {i for i, r in _manifest(out).items() if r.status == "done"}
    assert 3 <= len(done_before) < jobs
    stamps = {i: (out / f"{i}.ipynb").stat().st_mtime_ns for i in done_before}

    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"{jobs - len(done_before)} done, {len(done_before)} already done, 0 failed" in (
        second.stdout
    )
    assert {i: (out / f"{i}.ipynb").stat().st_mtime_ns for i in done_before} == stamps
    final = _manifest(out)
    assert sorted(final) == [f"p{n:02d}" for n in range(jobs)]
    assert all(r.status == "done" for r in final.values())
    assert all(f"pair {n}" in stdout_of(out / f"p{n:02d}.ipynb") for n in range(jobs))


def test_a_killed_run_leaves_no_process_behind(books: dict[str, Path], tmp_path: Path) -> None:
    """A run whose own process is killed outright (no clean-up code runs) takes its
    workers, their fork server, the kernel template and the kernels with it."""
    rows = tmp_path / "jobs.csv"
    rows.write_text("id,label\n" + "".join(f"p{n:02d},pair {n}\n" for n in range(10)))
    out = tmp_path / "out"
    command = _batch_command(books["sleep"], rows, out, "--workers", "2")  # the last counts
    run = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not any(r.status == "done" for r in _manifest(out).values()):
        assert run.poll() is None and time.monotonic() < deadline, "the batch never got going"
        time.sleep(0.1)

    def left() -> list[str]:
        session = []
        for proc in psutil.process_iter(["pid", "cmdline", "status"]):
            with contextlib.suppress(psutil.Error, OSError):  # it ended meanwhile
                if os.getsid(proc.pid) == run.pid and proc.status() != psutil.STATUS_ZOMBIE:
                    session.append(" ".join(proc.info["cmdline"] or [])[:80])
        return session

    assert len(left()) >= 4  # the run, its fork server, two workers, the template ...
    run.kill()
    run.wait()
    deadline = time.monotonic() + 30
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left() == []


def test_batch_cli_runs_a_yaml_jobs_file_and_exits_non_zero_on_failure(
    books: dict[str, Path], tmp_path: Path
) -> None:
    from tandem.cli.app import main

    rows = tmp_path / "jobs.yml"
    rows.write_text("- {id: Ana Lima, label: first}\n- {id: 'Ben/../..', label: second}\n")
    with pytest.raises(SystemExit) as done:
        main(["batch", str(books["sleep"]), "--jobs", str(rows), "--out", str(tmp_path / "o")])
    assert done.value.code in (0, None)
    assert "first" in stdout_of(tmp_path / "o" / "ana-lima.ipynb")
    assert "second" in stdout_of(tmp_path / "o" / "ben.ipynb")  # slugged: stays inside OUT

    failing = tmp_path / "fail.csv"
    failing.write_text("id\nonly\n")
    with pytest.raises(SystemExit) as failed:
        main(
            [
                "batch",
                str(books["die_always"]),
                "--jobs",
                str(failing),
                "--out",
                str(tmp_path / "f"),
            ]
        )
    assert failed.value.code == 1
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["jobs"][0]["status"] == "failed"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,not valid\na,1\n", "jobs.csv:2: parameter name 'not valid'"),
        ("id,x\na,1\na,2\n", "jobs.csv:3: job id 'a' repeats jobs.csv:2"),
        ("id,x\na,1,2\n", "jobs.csv:2: the row's cells do not match the header"),
        ("id,x\n", "the jobs file has no rows"),
    ],
)
def test_bad_jobs_files_are_refused_naming_the_line(
    books: dict[str, Path], tmp_path: Path, content: str, message: str
) -> None:
    rows = tmp_path / "jobs.csv"
    rows.write_text(content)
    with pytest.raises(TandemError) as refused:
        table_jobs(books["sleep"], load_job_table(rows), tmp_path / "out")
    assert message in str(refused.value)


def test_csv_cells_become_numbers_booleans_or_text(tmp_path: Path) -> None:
    rows = tmp_path / "jobs.csv"
    rows.write_text("id,n,share,ratio,name\na,3,true,0.5,007 Bond\n")
    [(where, parameters)] = load_job_table(rows)
    assert where == "jobs.csv:2"
    assert parameters == {"id": "a", "n": 3, "share": True, "ratio": 0.5, "name": "007 Bond"}


def test_unknown_executor_and_scheduler_without_dask_are_usage_errors(tmp_path: Path) -> None:
    from tandem.engine.executors import make_executor

    with pytest.raises(TandemError, match="unknown executor 'ray'"):
        make_executor("ray")
    with pytest.raises(TandemError, match="--scheduler only applies to --executor dask"):
        make_executor("local", scheduler="tcp://x:8786")
    with pytest.raises(BatchError, match="no jobs file"):
        load_job_table(tmp_path / "missing.csv")


def test_tandem_help_does_not_import_the_heavy_machinery() -> None:
    """`tandem --help` must start fast: papermill, nbgrader, pandas load only when used."""
    code = (
        "import sys\n"
        "from tandem.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('papermill', 'nbgrader', 'nbclient', 'pandas', 'matplotlib',"
        " 'distributed', 'jupyter_client') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_real_report_comes_out_the_same_from_forked_and_cold_kernels(
    demo_cohort: DemoResult, tmp_path: Path
) -> None:
    """Every cell of the pair report shows the same kinds of output (charts as PNG, tables
    as HTML) whichever way its kernel started."""
    from tandem.reports.build import template

    data = demo_cohort.workspace / "reports" / "facilitator" / "data" / "pairs.json"
    kinds = {}
    for mode in ("fork", "plain"):
        job = Job(
            id=mode,
            notebook=template("pair_report.ipynb"),
            output=tmp_path / f"{mode}.ipynb",
            parameters={"data_path": "pairs.json", "pair_id": "pair-01"},
            inputs={"pairs.json": data},
        )
        [record] = run_jobs([job], tmp_path / f"{mode}.json", options=RunOptions(kernels=mode))
        assert record.status == "done", record.error
        nb = nbformat.read(job.output, as_version=4)
        kinds[mode] = [
            sorted({k for o in c.get("outputs", []) for k in o.get("data", {}) or [o.output_type]})
            for c in nb.cells
        ]
    assert kinds["fork"] == kinds["plain"]
    assert any("image/png" in cell for cell in kinds["fork"])
    assert any("text/html" in cell for cell in kinds["fork"])
