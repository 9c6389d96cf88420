"""Tandem's Jupyter server extension: on every save, Tandem widgets' state and outputs are
removed from the notebook, whatever JupyterLab's *Save widget state* setting; other
widgets keep theirs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as w
import nbformat
import pytest
from ipywidgets.embed import dependency_state, embed_data

from tandem.notebook.serverext import scrub_before_save
from tandem.notebook.widgets import reflection
from tandem.notebook.widgetstate import WIDGET_STATE, WIDGET_VIEW

from ..jupyterlab import Lab, start_lab

PRIVATE = "PRIVATE-REFLECTION: I dread the quarterly review"


def _view(widget: w.Widget, text: str) -> Any:
    return nbformat.v4.new_output(
        "display_data",
        data={
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
            "text/plain": text,
        },
    )


def notebook_with_widget_state(other: bool = True) -> tuple[Any, str]:
    """A lesson notebook as JupyterLab saves it with *Save widget state* on: a Tandem
    reflection holding a private text and (if ``other``) an ordinary slider; returns it
    and the slider's model id."""
    panel = reflection("q1", "What did you learn?")
    panel.children[1].value = PRIVATE
    slider = w.IntSlider(value=7, description="other widget")
    views = [panel, slider] if other else [panel]
    # A Tandem box displayed on its own: its plain-text form holds the text typed into it.
    shown = [*views, panel.children[1]] if other else views
    # Every live model, as JupyterLab saves them; without ``other``, the panel's own only.
    state = embed_data(views=views, state=None if other else dependency_state(views))
    state = state["manager_state"]
    assert PRIVATE in json.dumps(state)
    cell = nbformat.v4.new_code_cell(
        "from tandem.widgets import reflection\nreflection('q1', 'What did you learn?')",
        outputs=[_view(view, repr(view)) for view in shown],
    )
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {WIDGET_STATE: state}
    return notebook, slider.model_id


def _assert_clean(text: str, slider: str) -> None:
    assert PRIVATE not in text
    assert "tandem-" not in text  # no Tandem model is left, not even an empty one
    saved = nbformat.reads(text, as_version=4)
    models = saved["metadata"]["widgets"][WIDGET_STATE]["state"]
    assert models[slider]["state"]["value"] == 7  # other widgets keep their state
    outputs = saved["cells"][0]["outputs"]
    tandem = outputs[0]["data"]  # a reference to the view (no value) and the widget's name
    assert tandem["text/plain"] == "<Tandem reflection>"
    assert set(tandem) == {WIDGET_VIEW, "text/plain"}
    assert set(tandem[WIDGET_VIEW]) == {"version_major", "version_minor", "model_id"}
    assert outputs[1]["data"][WIDGET_VIEW]["model_id"] == slider
    assert outputs[2]["data"]["text/plain"] == "(interactive widget)"


def test_the_save_hook_removes_tandem_widget_state_and_outputs() -> None:
    notebook, slider = notebook_with_widget_state()
    model = {"type": "notebook", "format": "json", "content": json.loads(json.dumps(notebook))}
    scrub_before_save(model=model, path="lesson.ipynb", contents_manager=None)
    text = json.dumps(model["content"])
    _assert_clean(text, slider)
    nbformat.validate(nbformat.from_dict(model["content"]))


def test_the_save_hook_drops_the_entry_when_only_tandem_widgets_were_saved() -> None:
    notebook, _ = notebook_with_widget_state(other=False)
    model = {"type": "notebook", "format": "json", "content": json.loads(json.dumps(notebook))}
    scrub_before_save(model=model, path="lesson.ipynb", contents_manager=None)
    assert PRIVATE not in json.dumps(model["content"])
    assert "widgets" not in model["content"]["metadata"]


def test_a_notebook_uploaded_as_a_file_is_scrubbed_too() -> None:
    notebook, slider = notebook_with_widget_state()
    raw = nbformat.writes(notebook).encode("utf-8")
    model = {"type": "file", "format": "base64", "content": base64.b64encode(raw).decode()}
    scrub_before_save(model=model, path="upload.ipynb", contents_manager=None)
    _assert_clean(base64.b64decode(model["content"]).decode("utf-8"), slider)


def test_the_extension_is_enabled_in_the_installed_environment() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = listing.stdout + listing.stderr
    assert "tandem.notebook.serverext \x1b[32menabled" in out or (
        "tandem.notebook.serverext enabled" in out
    ), out
    assert "tandem.notebook.serverext  \x1b[32mOK" in out or "tandem.notebook.serverext  OK" in out


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    root = tmp_path / "home"
    root.mkdir()
    server = start_lab(root, tmp_path / "state", env={})
    try:
        yield server
    finally:
        server.stop()


def _put(lab: Lab, path: str, model: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{lab.url}/api/contents/{path}?token={lab.token}",
        method="PUT",
        data=json.dumps(model).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        saved: dict[str, Any] = json.loads(response.read())
    return saved


def test_a_real_server_never_writes_tandem_widget_state(lab: Lab) -> None:
    """A save through the contents REST API (what JupyterLab does), with widget state in
    the notebook: the file on disk and its checkpoint copy hold neither the state of
    Tandem's widgets nor the private text."""
    notebook, slider = notebook_with_widget_state()
    _put(lab, "lesson.ipynb", {"type": "notebook", "format": "json", "content": notebook})
    on_disk = (lab.root / "lesson.ipynb").read_text(encoding="utf-8")
    _assert_clean(on_disk, slider)
    nbformat.validate(nbformat.reads(on_disk, as_version=4))

    lab.api("/api/contents/lesson.ipynb/checkpoints", method="POST")
    [checkpoint] = (lab.root / ".ipynb_checkpoints").glob("lesson-checkpoint.ipynb")
    _assert_clean(checkpoint.read_text(encoding="utf-8"), slider)
    assert "Tandem: Tandem widgets' state is removed" in lab.log.read_text()
