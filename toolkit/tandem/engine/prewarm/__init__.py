"""Fill, once per pool, the caches every worker's first job would fill on its own.

Importing this package does the work every job needs; importing
:mod:`tandem.engine.prewarm.notebooks` also does what papermill jobs (reports, batches) need.
The local executor lists them in its fork server's preload (see
:data:`tandem.engine.executors.PRELOAD`), the one place Python's ``multiprocessing`` lets a pool
run code before it forks its workers. Each worker then starts with copies of these
caches instead of building them during its first job.

Measured here: a worker's first report cost ~1.4 s of CPU and each later one ~0.1 s (the
kernel's own work aside). The difference is caches: jupyter_client's lookup of the
``python3`` kernel spec (which imports IPython), nbformat's compiled validator, the HTML
exporter's Jinja templates, its CSS selectors and its Markdown parser, papermill's
parameter translators. With four workers that was paid four times, on two cores, while
the fork server sat idle waiting for the kernel template to finish its imports.

Nothing here starts a thread, a kernel, a zmq context or an event loop (the fork server
forks after it), and nothing changes what a job produces: only caches are filled.
"""

from __future__ import annotations

import contextlib


def warm() -> None:
    """Fill the caches every job's kernel start and notebook handling fill."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.provisioning.factory import KernelProvisionerFactory
    from nbformat.validator import get_validator

    from tandem.engine import kernelclient  # noqa: F401 - every job's kernel manager

    for minor in (4, 5):  # notebooks written by Jupyter 4.4+ (the report templates: 4.4)
        for relaxed in (False, True):  # nbconvert validates its intermediates relaxed
            get_validator(4, minor, relax_add_props=relaxed)
    KernelProvisionerFactory.instance()  # scans the provisioners' entry points
    KernelSpecManager().get_kernel_spec("python3")  # imports ipykernel's kernelspec, IPython


with contextlib.suppress(Exception):  # a cache not filled here is filled by the first job
    warm()
