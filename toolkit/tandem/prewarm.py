"""Fill, once per pool, the caches every worker's first job would fill on its own.

Importing this module does the work: the local executor lists it in its fork server's
preload (:data:`tandem.executors.CLIENT_MODULES`), the one place Python's
``multiprocessing`` lets a pool run code before it forks the workers. Each worker then
starts with copies of these caches instead of building them during its first job.

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


def _notebook() -> object:
    """A small executed notebook with every kind of output a report has."""
    from nbformat import v4

    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    parameters = v4.new_code_cell('data_path = ""', metadata={"tags": ["parameters"]})
    shown = v4.new_code_cell(
        "display(table)",
        outputs=[
            v4.new_output("stream", name="stdout", text="ready\n"),
            v4.new_output("display_data", data={"text/markdown": "## Checkpoints\n\n- **one**"}),
            v4.new_output(
                "display_data",
                data={"text/html": "<table><tr><th>Module</th></tr><tr><td>Q&amp;A</td></tr></table>"},
            ),
            v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        ],
    )
    notebook = v4.new_notebook(cells=[v4.new_markdown_cell("# Report"), parameters, shown])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return notebook


def warm() -> None:
    """Run, on throwaway data, the steps of a job that fill per-process caches."""
    import tempfile
    from pathlib import Path

    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.provisioning.factory import KernelProvisionerFactory
    from papermill.iorw import load_notebook_node
    from nbformat.validator import get_validator
    from papermill.parameterize import parameterize_notebook

    from tandem import kernelclient  # noqa: F401 - every job's kernel manager
    from tandem.htmlpage import notebook_to_page

    for minor in (4, 5):  # notebooks written by Jupyter 4.4+ (the report templates: 4.4)
        for relaxed in (False, True):  # nbconvert validates its intermediates relaxed
            get_validator(4, minor, relax_add_props=relaxed)
    KernelProvisionerFactory.instance()  # scans the provisioners' entry points
    KernelSpecManager().get_kernel_spec("python3")  # imports ipykernel's kernelspec, IPython
    with tempfile.TemporaryDirectory(prefix="tandem-prewarm-") as folder:
        path = Path(folder, "warm.ipynb")
        nbformat.write(_notebook(), path)  # compiles nbformat's validator
        node = load_notebook_node(str(path))  # papermill's reader, as each job's
    node = parameterize_notebook(
        node, {"data_path": "pair.json"}, kernel_name="python3", language="python"
    )
    text = nbformat.writes(node)
    notebook_to_page(text, title="warm")  # Jinja templates, selectors, Markdown, Pygments


with contextlib.suppress(Exception):  # a cache not filled here is filled by the first job
    warm()
