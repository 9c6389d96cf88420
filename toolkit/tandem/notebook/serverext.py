"""A Jupyter server extension: Tandem's widgets never leave their state in a saved notebook.

JupyterLab's *Save widget state in notebooks* setting belongs to the participant; with it
on, a save would write the text typed into a reflection into the ``.ipynb`` (and so into
its checkpoint copy, and into what ``nbgrader submit`` sends). This extension, enabled
when Tandem is installed (``etc/jupyter/jupyter_server_config.d/tandem.json``), registers
a pre-save hook on the server's contents manager that removes Tandem widgets' saved state
and outputs from every notebook before it is written, whatever the client's setting.
It is registered with ``ContentsManager.register_pre_save_hook``, beside any other
hooks (e.g. a ``pre_save_hook`` set in the server's config, which keeps working).

Check: ``jupyter server extension list`` shows ``tandem.notebook.serverext`` enabled.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from tandem.notebook.widgetstate import scrub_widgets

NAME = "tandem.notebook.serverext"


def _scrub_file_model(model: dict[str, Any]) -> None:
    """A notebook saved as a plain file (an upload): scrub its JSON text, if whole."""
    content, fmt = model.get("content"), model.get("format")
    if not isinstance(content, str) or model.get("chunk") is not None:
        return
    raw = base64.b64decode(content) if fmt == "base64" else content.encode("utf-8")
    try:
        notebook = json.loads(raw)
    except ValueError:
        return  # not JSON: not a notebook Jupyter could open, nor one a widget saved
    if isinstance(notebook, dict) and scrub_widgets(notebook, only_tandem=True):
        text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        model["content"] = (
            base64.b64encode(text.encode("utf-8")).decode("ascii") if fmt == "base64" else text
        )


def scrub_before_save(model: dict[str, Any], path: str = "", **kwargs: Any) -> None:
    """The pre-save hook: remove Tandem widgets' state and outputs from the notebook in
    ``model`` (in place) before the contents manager writes it.

    Should the selective scrub fail on a malformed model, all widget state is removed
    instead; if even that fails the save is refused (HTTP 500) rather than written with
    the widgets' values in it.
    """
    content = model.get("content")
    if model.get("type") == "file" and str(path).endswith(".ipynb"):
        _scrub_file_model(model)
        return
    if model.get("type") != "notebook" or not isinstance(content, dict):
        return
    try:
        scrub_widgets(content, only_tandem=True)
    except Exception:
        try:
            scrub_widgets(content)
        except Exception as exc:
            from tornado.web import HTTPError

            raise HTTPError(
                500, f"Tandem could not remove saved widget state from {path}; not saved"
            ) from exc


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": NAME}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the hook on the server's contents manager."""
    server_app.contents_manager.register_pre_save_hook(scrub_before_save)
    server_app.log.info("Tandem: Tandem widgets' state is removed from notebooks on save")
