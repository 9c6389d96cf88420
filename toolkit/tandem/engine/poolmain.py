"""Run the program's main script once in a pool's fork server, not once in every worker.

A worker that ``multiprocessing`` forks from its fork server first prepares itself as a
spawned process would: it runs the program's main script again (as ``__mp_main__``, its
``if __name__ == "__main__"`` block skipped) unless the fork server has already done so.
Naming ``"__main__"`` in the fork server's preload is meant to do it once there, but until
CPython fixed it in 2025 (3.14, a 3.13 bug-fix release) the server was never told the
script's path (cpython gh-126631, gh-137996), so every worker ran it on its own: ~0.1 s
for the ``tandem`` command, ~0.17 s for a benchmark script, in each worker, while the
pool starts and the CPU is busiest.

The local executor hands this module what its workers will be told (the script's path or
module name, ``sys.path``, ``sys.argv``, the working directory) in :data:`MAIN_ENV` while
it starts the fork server, and lists this module last in the server's preload. Workers
then find the script already run and skip it: multiprocessing's own check decides. If
running it fails here, nothing is lost: each worker runs it as before, and fails as it
would have. (Importing this module in any other process does nothing: the variable is
set only for the fork server's start.)
"""

from __future__ import annotations

import contextlib
import json
import os

#: The environment variable carrying the main script's preparation data to the server.
MAIN_ENV = "TANDEM_POOL_MAIN"
#: What of ``multiprocessing.spawn.get_preparation_data`` a worker uses to run the script.
MAIN_KEYS = (
    "sys_path",
    "sys_argv",
    "dir",
    "orig_dir",
    "init_main_from_path",
    "init_main_from_name",
)


def main_data() -> dict[str, object]:
    """What this process's workers would be told about its main script."""
    from multiprocessing import spawn

    data = spawn.get_preparation_data("tandem-pool")
    if "init_main_from_path" not in data and "init_main_from_name" not in data:
        return {}  # no script to run (an interactive session, a notebook)
    return {key: data[key] for key in MAIN_KEYS if key in data}


def _run_main() -> None:
    from multiprocessing import process, spawn

    text = os.environ.pop(MAIN_ENV, None)  # workers and their kernels must not inherit it
    if not text:
        return
    current = process.current_process()
    current._inheriting = True  # type: ignore[attr-defined] # as in a worker: no new processes
    try:
        with contextlib.suppress(Exception):  # each worker will run it, as before
            spawn.prepare(json.loads(text))
    finally:
        del current._inheriting  # type: ignore[attr-defined]


_run_main()
