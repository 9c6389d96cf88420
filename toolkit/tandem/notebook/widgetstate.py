"""Saved widget state in a notebook, and removing it: pure functions on a notebook's JSON.

With JupyterLab's *Save widget state in notebooks* on, a saved notebook carries every live
widget's model in ``metadata.widgets["application/vnd.jupyter.widget-state+json"]``,
the text typed into a reflection box included, and each displayed widget leaves an output
(a view of its model, with a plain-text form). Two callers remove them:

* collecting a submission (:mod:`tandem.cohort.exchange`) removes all widget state and
  every widget output: nothing a participant's widgets held reaches the facilitator;
* the Jupyter server's save hook (:mod:`tandem.notebook.serverext`) removes Tandem's
  widgets' state only, on every save, so other widgets in a notebook keep working; a
  Tandem widget's output keeps its view reference (a model id, no value) and its name. A Tandem
  widget is a model with a ``tandem-...`` CSS class (every Tandem panel and every box
  holding an answer has one) and every model it refers to (its children, layouts,
  styles), transitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: What a removed widget output shows instead: never the widget's values.
PLACEHOLDER = "(interactive widget)"
TANDEM_CLASS = "tandem-"  # the CSS classes Tandem's widgets carry
TANDEM_REPR = "<Tandem "  # the plain-text form of a Tandem panel (``Panel.__repr__``)
SAFE_REPR = re.compile(r"<Tandem [a-z][a-z -]*>")  # names the widget, holds no value
VIEW_KEYS = ("version_major", "version_minor", "model_id")  # a view: a reference only
MODEL_REFERENCE = "IPY_MODEL_"

Notebook = MutableMapping[str, Any]


def _references(value: Any) -> Iterator[str]:
    """The model ids a model's state refers to (``"IPY_MODEL_<id>"`` strings, anywhere)."""
    if isinstance(value, str):
        if value.startswith(MODEL_REFERENCE):
            yield value[len(MODEL_REFERENCE) :]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _is_tandem(model: Any) -> bool:
    state = model.get("state") if isinstance(model, dict) else None
    classes = state.get("_dom_classes") if isinstance(state, dict) else None
    return isinstance(classes, list) and any(
        isinstance(c, str) and c.startswith(TANDEM_CLASS) for c in classes
    )


def tandem_models(models: dict[str, Any]) -> set[str]:
    """The ids of Tandem's widget models among ``models`` (a widget-state ``state`` map):
    those with a ``tandem-`` class and every model they refer to, transitively."""
    found: set[str] = set()
    todo = [model_id for model_id, model in models.items() if _is_tandem(model)]
    while todo:
        model_id = todo.pop()
        if model_id in found:
            continue
        found.add(model_id)
        todo += [r for r in _references(models.get(model_id)) if r not in found]
    return found


def _widget_outputs(notebook: Notebook) -> Iterator[dict[str, Any]]:
    for cell in notebook.get("cells") or []:
        outputs = cell.get("outputs") if isinstance(cell, dict) else None
        for output in outputs or []:
            data = output.get("data") if isinstance(output, dict) else None
            if isinstance(data, dict) and (WIDGET_VIEW in data or WIDGET_STATE in data):
                yield output


def _text(data: dict[str, Any]) -> str | None:
    text = data.get("text/plain")
    text = "".join(text) if isinstance(text, list) else text
    return text if isinstance(text, str) else None


def _is_tandem_output(data: dict[str, Any], models: set[str]) -> bool:
    view = data.get(WIDGET_VIEW)
    model_id = view.get("model_id") if isinstance(view, dict) else None
    text = _text(data)
    return (
        WIDGET_STATE in data
        or model_id in models
        or (text is not None and text.startswith(TANDEM_REPR))
    )


def _tandem_output(data: dict[str, Any]) -> dict[str, Any]:
    """What a Tandem widget's output keeps: the reference to its view (so that a page
    reloaded while the kernel runs shows the widget again) and a plain-text form that
    names the widget, never anything typed into it."""
    view = data.get(WIDGET_VIEW)
    text = _text(data)
    kept: dict[str, Any] = {}
    if isinstance(view, dict):
        kept[WIDGET_VIEW] = {key: view[key] for key in VIEW_KEYS if key in view}
    safe = text is not None and SAFE_REPR.fullmatch(text) is not None
    kept["text/plain"] = text if safe else PLACEHOLDER
    return kept


def scrub_widgets(notebook: Notebook, *, only_tandem: bool = False) -> bool:
    """Remove saved widget state and widget outputs from ``notebook`` (its JSON, changed in
    place): all of them, or with ``only_tandem`` Tandem's only. Return whether anything
    was removed. A removed widget output keeps only a plain-text :data:`PLACEHOLDER`; with
    ``only_tandem`` a Tandem widget's output keeps its view reference and its name."""
    metadata = notebook.get("metadata")
    metadata = metadata if isinstance(metadata, MutableMapping) else {}
    changed = False
    removed: set[str] = set()
    if not only_tandem:
        changed = metadata.pop("widgets", None) is not None
    elif isinstance(metadata.get("widgets"), MutableMapping):
        widgets = metadata["widgets"]
        saved = widgets.get(WIDGET_STATE)
        models = saved.get("state") if isinstance(saved, MutableMapping) else None
        if isinstance(models, dict):
            removed = tandem_models(models)
            for model_id in removed:
                del models[model_id]
            changed = bool(removed)
            if not models:
                del widgets[WIDGET_STATE]
        elif saved is not None:  # not the documented shape: it cannot be checked, so it goes
            del widgets[WIDGET_STATE]
            changed = True
        if not widgets:
            del metadata["widgets"]
    for output in _widget_outputs(notebook):
        # The plain-text form of a widget output can hold the widget's values too.
        if not only_tandem:
            output["data"] = {"text/plain": PLACEHOLDER}
            changed = True
        elif _is_tandem_output(output["data"], removed):
            kept = _tandem_output(output["data"])
            changed = changed or kept != output["data"]
            output["data"] = kept
    return changed
