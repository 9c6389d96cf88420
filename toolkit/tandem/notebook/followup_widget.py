"""The follow-up's questions three months on (Kirkpatrick level 3), for both partners.

:func:`followup_questions` shows two 1-5 rows (how often I still use what my partner
taught me; how often I see my partner use what I taught them) and one example in the
participant's own words. Like the other widgets (:mod:`tandem.notebook.widgets`) it saves
as the participant types (debounced) and on Save, into the author's private store
(restored when the cell runs again) and, inside a cohort, into the author's check-in in the
follow-up's folder (``CheckIn.followup``), which travels with the submission to the
partner and the facilitator. There is no lead: both partners answer the same questions,
each about their own direction.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from typing import Any

import ipywidgets as w

from tandem.notebook.checkin import CheckIn, FollowUp
from tandem.notebook.store import MAX_TEXT, StoreError
from tandem.notebook.widgets import (
    Panel,
    Where,
    _local,
    _ratings_row,
    _restore,
    _status,
    save_on_change,
)

FOLLOWUP_SCALE = (
    "1 = never, 2 = once or twice, 3 = about once a month, 4 = most weeks, 5 = every week"
)
#: What each partner learned from the other: the junior learned the management modules
#: (the senior led them), the senior the tech modules.
LEARNED_FROM_PARTNER = {"junior": "management", "senior": "tech"}
EXAMPLE_LIMIT = 5000  # as CheckIn.followup.example allows
EXAMPLE_PLACEHOLDER = (
    "One example from the last month or two: when it was, what you (or your partner) did "
    "differently, and what it changed."
)


def _labels(where: Where) -> tuple[str, str]:
    member = where.context.member(where.participant) if where.context else None
    learned = LEARNED_FROM_PARTNER.get(member.role) if member else None
    if learned is None:
        return (
            "I still use what my partner taught me",
            "I see my partner still using what I taught them",
        )
    taught = "tech" if learned == "management" else "management"
    return (
        f"I still use what my partner taught me (the {learned} modules)",
        f"I see my partner still using what I taught them (the {taught} modules)",
    )


def followup_questions(followup_id: str, *, where: Where | None = None) -> Panel:
    """Both partners: the two 1-5 ratings and one example, saved and restored.

    Saved to the author's store (key ``followup`` of ``followup_id``) and, inside a cohort,
    to the check-in of the follow-up's folder as ``CheckIn.followup``."""
    where = where or Where.here()
    key = where.key("followup", followup_id)
    key.parts()  # an id that cannot name a store file is refused now, not on the first save
    heading = w.HTML(
        "<b>Three months on</b>: how often, since the programme ended? "
        f"{html.escape(FOLLOWUP_SCALE)}. Leave a row blank if you cannot say."
    )
    status = _status()
    latest = _restore(where, key, status)
    data = latest.data if latest is not None else None
    saved: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
    still_label, partner_label = _labels(where)
    rows = {
        "still_use": _ratings_row(still_label, saved.get("still_use")),
        "partner_uses": _ratings_row(partner_label, saved.get("partner_uses")),
    }
    for name, row in rows.items():
        row.add_class(f"tandem-followup-{name.replace('_', '-')}")
    example = w.Textarea(
        value=latest.text if latest is not None else "",
        placeholder=EXAMPLE_PLACEHOLDER,
        continuous_update=True,
        layout=w.Layout(width="100%", height="6em"),
    )
    example.add_class("tandem-followup-example")
    save = w.Button(description="Save", icon="save")
    save.add_class("tandem-save")
    lock = threading.Lock()

    def store_it() -> None:
        with lock:
            text = example.value
            limit = min(EXAMPLE_LIMIT, MAX_TEXT)
            if len(text) > limit:
                raise StoreError(
                    f"the example is {len(text):,} characters; the limit is {limit:,}. Shorten it."
                )
            ratings = {n: int(r.value) for n, r in rows.items() if r.value is not None}
            where.store.save(key, text, shared=True, data=ratings)
            answers = FollowUp(**ratings, example=text)

            def change(checkin: CheckIn) -> None:
                checkin.followup = answers

            where.share(key.module, change)

    save_on_change(status, store_it, typed=[example], at_once=list(rows.values()), button=save)
    if latest is not None:
        status.value = f"Restored your answers saved {_local(latest.at)}"
    notice = w.HTML(
        "<small>"
        + html.escape(where.notice())
        + "Shared: your ratings and example go with your submission to your partner and "
        "facilitator. The programme report shows only averages over several people, never "
        "yours. A copy stays in your private Tandem store.</small>"
    )
    notice.add_class("tandem-privacy")
    return Panel([heading, *rows.values(), example, save, status, notice], "followup")


__all__ = ["FOLLOWUP_SCALE", "followup_questions"]
