"""Fill, once per pool, the caches a papermill job's first run fills: papermill's reader
and parameter translators, the HTML exporter's Jinja templates, its CSS selectors, its
Markdown parser and Pygments (see :mod:`tandem.engine.prewarm`). Importing this module does it."""

from __future__ import annotations

import contextlib

import tandem.engine.prewarm  # noqa: F401 - what every job needs, first


def _notebook() -> object:
    """A small executed notebook with every kind of output a report has."""
    from nbformat import v4

    png = (  # one pixel
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    table = "<table><tr><th>Topic</th></tr><tr><td>Q&amp;A</td></tr></table>"  # an entity
    parameters = v4.new_code_cell('data_path = ""', metadata={"tags": ["parameters"]})
    shown = v4.new_code_cell(
        "display(table)",
        outputs=[
            v4.new_output("stream", name="stdout", text="ready\n"),
            v4.new_output("display_data", data={"text/markdown": "## Checkpoints\n\n- **one**"}),
            v4.new_output(
                "display_data",
                data={"text/html": table},
            ),
            v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        ],
    )
    notebook = v4.new_notebook(cells=[v4.new_markdown_cell("# Report"), parameters, shown])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return notebook


def warm() -> None:
    """Run a papermill job's steps, without a kernel, on a small executed notebook."""
    import tempfile
    from pathlib import Path

    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from tandem.htmlpage import notebook_to_page

    with tempfile.TemporaryDirectory(prefix="tandem-prewarm-") as folder:
        path = Path(folder, "warm.ipynb")
        nbformat.write(_notebook(), path)
        node = load_notebook_node(str(path))  # papermill's reader, as each job's
    node = parameterize_notebook(
        node, {"data_path": "pair.json"}, kernel_name="python3", language="python"
    )
    text = nbformat.writes(node)
    notebook_to_page(text, title="warm")  # Jinja templates, selectors, Markdown, Pygments


with contextlib.suppress(Exception):  # a cache not filled here is filled by the first job
    warm()
