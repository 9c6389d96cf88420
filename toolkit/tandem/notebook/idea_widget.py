"""The improvement-idea widget: either partner records an idea for "how we've always done
it" (title, the process it touches, expected benefit, owner, theme).

One call in a lesson cell, saved like the other widgets (:mod:`tandem.notebook.widgets`):
into the author's private store (restored, with the list, when the cell runs again) and
into the author's check-in (``CheckIn.ideas``), which their partner and facilitator see.
Each idea gets its id (``idea-`` + 8 random hex digits) once, when it is added; the
facilitator's records of what became of it (``tandem ideas set``) point at that id.
"""

from __future__ import annotations

import html
import secrets
import threading
from collections.abc import Mapping
from typing import Any

import ipywidgets as w
from pydantic import ValidationError

from tandem.notebook.checkin import IDEA_THEMES, CheckIn, Idea
from tandem.notebook.store import Revision, StoreError
from tandem.notebook.widgets import Panel, Where, _guarded, _restore, _status

PROMPT = "improvement-ideas"
#: The idea's text boxes: field of :class:`Idea` -> (label, placeholder, limit).
IDEA_BOXES: dict[str, tuple[str, str, int]] = {
    "title": ("Idea", "In a line: what would you change?", 200),
    "process": ("Process", "The process or habit it touches: how it is done today.", 2000),
    "benefit": ("Benefit", "What it would improve, and for whom.", 2000),
    "owner": ("Owner", "Who could decide or try it (a role or a team).", 200),
}
IDEAS_NOTICE = (
    "Shared: your ideas go with your submission to your partner and your facilitator, "
    "who records what became of each (trialled, adopted or declined). "
    "A copy stays in your private Tandem store."
)


def new_idea_id() -> str:
    """A fresh idea id: ``idea-`` and 8 random hex digits."""
    return f"idea-{secrets.token_hex(4)}"


def _saved_ideas(latest: Revision | None) -> list[Idea]:
    """The ideas of the last saved answer; entries that are not valid ideas are left out."""
    data = latest.data if latest is not None else None
    entries = data.get("ideas") if isinstance(data, Mapping) else None
    ideas: list[Idea] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            ideas.append(Idea.model_validate(entry))
        except ValidationError:
            continue
    return ideas


def _listing(ideas: list[Idea]) -> str:
    if not ideas:
        return "<i>No ideas recorded for this module yet.</i>"
    items = "".join(
        f"<li><code>{html.escape(i.id)}</code> {html.escape(i.title)} "
        f"<small>({html.escape(i.theme)}"
        + (f"; owner: {html.escape(i.owner)}" if i.owner else "")
        + ")</small></li>"
        for i in ideas
    )
    return f"Your ideas for this module:<ul>{items}</ul>"


def _idea_from(boxes: Mapping[str, w.Text | w.Textarea], theme: str) -> Idea:
    texts = {field: box.value.strip() for field, box in boxes.items()}
    if not texts["title"]:
        raise StoreError("give the idea a title (one line) before adding it")
    for field, text in texts.items():
        label, _, limit = IDEA_BOXES[field]
        if len(text) > limit:
            raise StoreError(
                f"{label} is {len(text):,} characters; the limit is {limit:,}. Shorten it."
            )
    return Idea(id=new_idea_id(), theme=theme, **texts)


def improvement_idea(module_id: str, *, where: Where | None = None) -> Panel:
    """Record improvement ideas for this module: text boxes, a theme and *Add idea*.

    Either partner may use it. Each idea added is saved to the author's store and
    appended to the author's check-in (``ideas``); the cell lists the ideas this participant
    recorded for this module, each with its id, and restores the list when run again."""
    where = where or Where.here()
    key = where.key(PROMPT, module_id)
    key.parts()  # an id that cannot name a store file is refused now, not on the first add
    heading = w.HTML(
        "<b>Record an improvement idea</b>: something you do the way it has always been "
        "done, seen with fresh eyes. What would you change?"
    )
    status = _status()
    ideas = _saved_ideas(_restore(where, key, status))
    boxes: dict[str, w.Text | w.Textarea] = {}
    for field, (label, placeholder, _) in IDEA_BOXES.items():
        kind = w.Text if field in ("title", "owner") else w.Textarea
        box = kind(
            value="",
            description=label,
            placeholder=placeholder,
            style={"description_width": "6em"},
            layout=w.Layout(width="100%", **({} if kind is w.Text else {"height": "4em"})),
        )
        box.add_class(f"tandem-idea-{field}")
        boxes[field] = box
    theme = w.Dropdown(
        options=list(IDEA_THEMES),
        value=IDEA_THEMES[0],
        description="Theme",
        style={"description_width": "6em"},
    )
    theme.add_class("tandem-idea-theme")
    add = w.Button(description="Add idea", icon="plus")
    add.add_class("tandem-idea-add")
    listing = w.HTML(_listing(ideas))
    listing.add_class("tandem-idea-list")
    lock = threading.Lock()

    def store_it() -> None:
        with lock:
            idea = _idea_from(boxes, str(theme.value))
            recorded = [*ideas, idea]
            where.store.save(
                key, "", shared=True, data={"ideas": [i.model_dump() for i in recorded]}
            )

            def change(checkin: CheckIn) -> None:
                known = {i.id for i in checkin.ideas}
                checkin.ideas.extend(i for i in recorded if i.id not in known)

            where.share(key.module, change)
            ideas.append(idea)
            for box in boxes.values():
                box.value = ""
            listing.value = _listing(ideas)

    def on_add(_: Any) -> None:
        if _guarded(status, store_it):
            status.value += f" <small>({html.escape(ideas[-1].id)} added)</small>"

    add.on_click(on_add)
    notice = w.HTML(f"<small>{html.escape(where.notice() + IDEAS_NOTICE)}</small>")
    notice.add_class("tandem-privacy")
    return Panel(
        [heading, *boxes.values(), theme, add, status, listing, notice], "improvement-idea"
    )


__all__ = ["IDEAS_NOTICE", "improvement_idea", "new_idea_id"]
