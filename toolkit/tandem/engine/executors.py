"""Executors: where batch jobs run. Looked up by name in :data:`EXECUTORS`.

- ``local`` (default): a pool of worker processes on this machine, two per core. Each
  pool has one kernel template its workers share (see :mod:`tandem.engine.kernels`).
- ``dask``: a ``distributed.Client`` on a scheduler address, or on a LocalCluster when
  no address is given. Workers need Tandem installed, nothing else: jobs carry their
  notebooks and inputs, and results come back to the client, which writes them.

An executor takes :class:`tandem.engine.jobs.Work` items and yields an
:class:`tandem.engine.jobs.Outcome` for each, in the order they finish.
"""

from __future__ import annotations

import collections
import functools
import itertools
import multiprocessing
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from tandem.engine.jobs import Outcome, Work, WorkKind, describe, run_work
from tandem.errors import UsageError


class Executor(Protocol):
    name: str

    def start(self) -> None: ...

    def run(self, works: Iterable[Work]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """Two workers per core. A job's kernel spends part of its life waiting, not
    computing (jupyter_client waits 0.2 s for its IOPub channel to settle at start,
    and polls at shutdown): with reports on 2 cores, 4 workers finished 40 jobs in
    0.27 s each against 0.36 s with 3."""
    return 2 * cores()


#: What every worker imports (first: the stand-in that must come before jsonschema).
CLIENT_MODULES = (
    "tandem.engine.lazyimport",
    "tandem.engine.jobs",
    "tandem.engine.kernels",
    "nbclient",
    "nbconvert.exporters",
)
#: What workers import, and the caches they fill (:mod:`tandem.engine.prewarm`), per kind of work.
PRELOAD: dict[WorkKind, tuple[str, ...]] = {
    "papermill": ("papermill", "tandem.engine.prewarm.notebooks"),
    "autograde": ("nbgrader.preprocessors", "tandem.engine.prewarm"),
}
ALL_KINDS: tuple[WorkKind, ...] = tuple(PRELOAD)


def preload(kinds: Sequence[WorkKind] = ALL_KINDS) -> list[str]:
    """The modules a pool that runs ``kinds`` of work imports before forking workers."""
    names = list(CLIENT_MODULES)
    for kind in kinds:
        names += [name for name in PRELOAD[kind] if name not in names]
    return names


def _init_worker(
    kernel_mode: str, template: str | None, token: str | None, modules: list[str], owner: int
) -> None:
    import importlib

    from tandem.engine import kernels

    _end_with(owner)
    kernels.use(kernel_mode, shared=template, token=token)
    for name in modules:
        importlib.import_module(name)


def _end_with(owner: int) -> None:
    """End this worker when the process that owns the pool ends, however it ends. A pool
    worker waits on its work queue, and holds both ends of it, so a pool whose owner was
    killed (or interrupted while its workers were starting) left them, and the fork
    server they came from, running for good."""
    import select

    try:
        watched = os.pidfd_open(owner)
    except ProcessLookupError:  # gone before this worker started
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here (not Linux)
        return

    def watch() -> None:
        select.select([watched], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="tandem-owner-watch", daemon=True).start()


def _start_fork_server(context: Any, modules: list[str]) -> None:
    """Start this process's fork server now (if it is not running yet) with ``modules``
    and the program's main script run once in it (see :mod:`tandem.engine.poolmain`)."""
    import json
    from multiprocessing import forkserver

    from tandem.engine.poolmain import MAIN_ENV, main_data

    context.set_forkserver_preload([*modules, "tandem.engine.poolmain"])
    main = main_data()
    before = os.environ.get(MAIN_ENV)
    if main:  # read, and removed, by the server at start-up
        os.environ[MAIN_ENV] = json.dumps(main)
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            os.environ.pop(MAIN_ENV, None)
        else:
            os.environ[MAIN_ENV] = before


class LocalExecutor:
    """A process pool on this machine; workers start from a clean fork server."""

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        kernels: str = "fork",
        kinds: Sequence[WorkKind] = ALL_KINDS,
        **_: Any,
    ) -> None:
        from concurrent.futures import ProcessPoolExecutor

        from tandem.engine import kernels as kernel_modes

        self.workers = workers or default_workers()
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        context = multiprocessing.get_context(method)
        modules = preload(kinds)
        if method == "forkserver":
            # Workers fork from a server that has imported the client side once.
            _start_fork_server(context, modules)
        self._starting: threading.Thread | None = None
        # One kernel template for every worker, started now: its imports run while the
        # workers' fork server does its own. Workers reach it through a link of ours
        # (:attr:`address`) that points at a new template if this one dies.
        self.template = None
        self.address: str | None = None
        self._folder: str | None = None
        # The secret workers show the template (it knows only its hash): handed to them as
        # an initializer argument, not in the environment, which kernels would inherit.
        self._token: str | None = None
        if kernels == "fork" and kernel_modes.fork_supported():
            self._token = secrets.token_hex(32)
            self.template = kernel_modes.Template(listen=True, token=self._token)
            self._folder = tempfile.mkdtemp(prefix="tandem-pool-")
            self.address = os.path.join(self._folder, "template")
            os.symlink(str(self.template.address), self.address)
        self._new_pool: Callable[[], ProcessPoolExecutor] = functools.partial(
            ProcessPoolExecutor,
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(kernels, self.address, self._token, modules, os.getpid()),
        )
        self.pool = self._new_pool()
        #: Deaths of the kernel template or of a pool worker during this executor's runs.
        self.deaths: list[str] = []

    def start(self) -> None:
        """Start every worker now, in the background, so that their imports overlap with
        the caller's own preparation. (Starting one waits for the pool's fork server to
        finish its imports: a thread does the waiting.)"""

        def spawn() -> None:
            for _ in range(self.workers):
                self.pool.submit(os.getpid)

        self._starting = threading.Thread(target=spawn, name="tandem-pool-start", daemon=True)
        self._starting.start()

    def run(self, works: Iterable[Work]) -> Iterator[Outcome]:
        """Run ``works``, surviving the death of the kernel template or of a worker (a
        job's kernel can kill its parent): the template or the pool is started again, and
        the jobs in flight then are run again, one at a time, so that a job in flight at a
        second death is the one that caused it; that job is reported as failed."""
        from concurrent.futures import FIRST_COMPLETED, Future, wait

        if self._starting is not None:
            self._starting.join()
        pending = iter(works)
        running: dict[Future[Outcome], Work] = {}
        abandoned: set[Future[Outcome]] = set()  # in flight at a death: results discarded
        reruns = Reruns()
        try:
            while True:
                if not reruns.suspects:
                    room = window(self.workers) - len(running) - len(abandoned)
                    for work in itertools.islice(pending, max(0, room)):
                        running[self.pool.submit(run_work, work)] = work
                elif not running and not abandoned:  # a suspect runs alone
                    work = reruns.suspects.popleft()
                    running[self.pool.submit(run_work, work)] = work
                if not running and not abandoned:
                    return
                done, _ = wait(
                    [*running, *abandoned], timeout=DEATH_POLL, return_when=FIRST_COMPLETED
                )
                abandoned -= done
                death = self._death(done)
                if death is not None:
                    self.deaths.append(death)
                    yield from reruns.died(death, running.values())
                    abandoned |= set(running) - done
                    running.clear()
                    continue
                for future in done & set(running):
                    yield reruns.finished(_result(running.pop(future), future.result))
        finally:
            for future in [*running, *abandoned]:
                future.cancel()

    def _death(self, done: set[Any]) -> str | None:
        """What died, if anything (and start it again): the kernel template or a worker."""
        from concurrent.futures.process import BrokenProcessPool

        died = None
        if self.template is not None and not self.template.alive():
            self._restart_template()
            died = TEMPLATE_DIED
        broken = any(
            not f.cancelled() and isinstance(f.exception(), BrokenProcessPool) for f in done
        )
        if broken or getattr(self.pool, "_broken", False):
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            died = died or WORKER_DIED
        return died

    def _restart_template(self) -> None:
        from tandem.engine import kernels as kernel_modes

        assert self.template is not None and self.address is not None
        dead, self.template = self.template, kernel_modes.Template(listen=True, token=self._token)
        link = f"{self.address}.new"
        os.symlink(str(self.template.address), link)
        os.replace(link, self.address)  # workers reconnect to the new template
        dead.close()

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.template is not None:
            self.template.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


#: How often a run checks that the kernel template is still alive (seconds).
DEATH_POLL = 0.1
TEMPLATE_DIED = "the kernel template"
WORKER_DIED = "a pool worker"


class Reruns:
    """Which jobs were in flight when the template or a worker died, and what follows:
    each is run again once (they wait in :attr:`suspects`, to be run one at a time); a job
    in flight at a second death is reported as failed."""

    def __init__(self) -> None:
        self.suspects: collections.deque[Work] = collections.deque()
        self.seen: dict[str, list[str]] = {}  # job id -> what died while it was in flight

    def died(self, what: str, in_flight: Iterable[Work]) -> Iterator[Outcome]:
        for work in in_flight:
            deaths = self.seen.setdefault(work.id, [])
            deaths.append(what)
            if len(deaths) == 1:
                self.suspects.append(work)
            else:
                yield Outcome(work.id, False, error=f"in flight when {_twice(deaths)}")

    def finished(self, outcome: Outcome) -> Outcome:
        deaths = self.seen.get(outcome.id)
        if deaths:
            note = f"in flight when {deaths[0]} died; ran again"
            outcome.retried = f"{note}; {outcome.retried}" if outcome.retried else note
        return outcome


def _twice(deaths: list[str]) -> str:
    if deaths[0] == deaths[1]:
        return f"{deaths[0]} died twice"
    return f"{deaths[0]} and then {deaths[1]} died"


class DaskExecutor:
    """A Dask ``distributed`` cluster: a scheduler address, or a LocalCluster."""

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        kernels: str = "fork",
        scheduler: str | None = None,
        **_: Any,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise UsageError(
                "the dask executor needs Dask: pip install 'tandem-mentoring[dask]'"
            ) from exc
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="20s")
        else:
            self.cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = Client(self.cluster)

    def start(self) -> None:
        """Dask workers are already running."""

    def run(self, works: Iterable[Work]) -> Iterator[Outcome]:
        from distributed import as_completed

        slots = window(sum(self.client.nthreads().values()) or 1)
        numbered = enumerate(works)
        running: dict[Any, Work] = {}

        def submit(count: int) -> list[Any]:
            futures = []
            for i, work in itertools.islice(numbered, count):
                future = self.client.submit(run_work, work, key=f"tandem-{i}-{work.id}", pure=False)
                running[future] = work
                futures.append(future)
            return futures

        queue = as_completed(submit(slots))
        try:
            for future in queue:
                yield _result(running.pop(future), future.result)
                for more in submit(slots - len(running)):
                    queue.add(more)
        finally:
            for future in running:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def window(workers: int) -> int:
    """Jobs in flight at once: enough to keep every worker busy, few enough that memory
    stays flat however many jobs a run has (jobs carry their notebooks and inputs)."""
    return 2 * workers + 2


def _result(work: Work, get: Callable[[], Outcome]) -> Outcome:
    try:
        return get()
    except Exception as exc:  # the worker itself died (e.g. out of memory)
        return Outcome(work.id, False, error=f"worker lost: {describe(exc)}")


EXECUTORS: dict[str, type[LocalExecutor] | type[DaskExecutor]] = {
    "local": LocalExecutor,
    "dask": DaskExecutor,
}


def make_executor(
    name: str = "local",
    *,
    workers: int | None = None,
    kernels: str = "fork",
    scheduler: str | None = None,
    kinds: Sequence[WorkKind] = ALL_KINDS,
) -> Executor:
    """The executor registered under ``name``, for ``kinds`` of work (what it preloads)."""
    from tandem.engine.kernels import KERNEL_MODES

    if kernels not in KERNEL_MODES:
        raise UsageError(f"--kernels must be one of {', '.join(KERNEL_MODES)}, not {kernels!r}")
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise UsageError(
            f"unknown executor {name!r}; choose from {', '.join(sorted(EXECUTORS))}"
        ) from None
    if scheduler and name != "dask":
        raise UsageError("--scheduler only applies to --executor dask")
    return factory(workers=workers, kernels=kernels, scheduler=scheduler, kinds=kinds)
