"""The improvement-idea widget in-process (no browser): either partner adds ideas, saved to
their store and check-in with an id made once, listed and restored; and the tech lessons
invite an idea where fresh eyes help."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest

from tandem.curriculum.manifest import validate_program
from tandem.notebook.checkin import CHECKIN_FILE, IDEA_THEMES, load_context
from tandem.notebook.idea_widget import IDEAS_NOTICE, PROMPT, improvement_idea
from tandem.notebook.store import Store
from tandem.notebook.widgets import Panel, Where
from tandem.notebook.widgetstate import SAFE_REPR

from ..conftest import MANIFEST
from ..factories import assignment_folder

JUNIOR, SENIOR = "j1", "s1"  # a tech module: the junior leads


def _where(tmp_path: Path, participant: str) -> Where:
    folder = assignment_folder(
        tmp_path / participant / "t1", "t1", track="tech", lead="junior",
        competencies=["social-networking"],
    )  # fmt: skip
    return Where(participant, load_context(folder), Store(tmp_path / participant / "store"))


def _part(panel: Panel, kind: str) -> object:
    return next(c for c in panel.children if f"tandem-{kind}" in c._dom_classes)


def _text(panel: Panel, kind: str) -> str:
    """The part's text as the participant reads it (tags removed)."""
    return html.unescape(re.sub(r"<[^>]+>", "", _part(panel, kind).value))  # type: ignore[attr-defined]


def _add(panel: Panel, title: str, theme: str = IDEA_THEMES[3], **fields: str) -> None:
    _part(panel, "idea-title").value = title  # type: ignore[attr-defined]
    for field, value in fields.items():
        _part(panel, f"idea-{field}").value = value  # type: ignore[attr-defined]
    _part(panel, "idea-theme").value = theme  # type: ignore[attr-defined]
    _part(panel, "idea-add").click()  # type: ignore[attr-defined]


def _checkin(where: Where) -> dict[str, object]:
    assert where.context is not None
    data: dict[str, object] = json.loads((where.context.folder / CHECKIN_FILE).read_text())
    return data


def _ideas(where: Where) -> list[dict[str, str]]:
    ideas = _checkin(where)["ideas"]
    assert isinstance(ideas, list)
    return ideas


@pytest.mark.parametrize("participant", [JUNIOR, SENIOR])
def test_either_partner_adds_ideas_to_store_and_check_in_with_an_id_each(
    tmp_path: Path, participant: str
) -> None:
    where = _where(tmp_path, participant)
    panel = improvement_idea("t1", where=where)
    assert repr(panel) == "<Tandem improvement idea>" and SAFE_REPR.fullmatch(repr(panel))
    _add(
        panel,
        "Book collections online",
        process="Collections are booked by phone",
        benefit="Fewer missed slots",
        owner="Depot manager",
    )
    _add(panel, "A shared calendar for site visits", theme=IDEA_THEMES[2])
    ideas = _checkin(where)["ideas"]
    assert isinstance(ideas, list) and len(ideas) == 2
    first, second = ideas
    assert first == {
        "id": first["id"],
        "title": "Book collections online",
        "process": "Collections are booked by phone",
        "benefit": "Fewer missed slots",
        "owner": "Depot manager",
        "theme": IDEA_THEMES[3],
    }
    assert re.fullmatch(r"idea-[0-9a-f]{8}", first["id"]) and first["id"] != second["id"]
    assert second["theme"] == IDEA_THEMES[2]
    assert _checkin(where)["participant"] == participant
    listed = _text(panel, "idea-list")
    assert f"{first['id']} Book collections online" in listed and second["id"] in listed
    assert f"{second['id']} added" in _text(panel, "status")
    assert _part(panel, "idea-title").value == ""  # type: ignore[attr-defined]
    saved = where.store.latest(where.key(PROMPT, "t1"))
    assert saved is not None and saved.data == {"ideas": ideas}


def test_the_ideas_are_restored_with_their_ids_when_the_cell_runs_again(tmp_path: Path) -> None:
    where = _where(tmp_path, SENIOR)
    _add(improvement_idea("t1", where=where), "Book collections online")
    [made] = _ideas(where)
    again = improvement_idea("t1", where=where)
    assert f"{made['id']} Book collections online" in _text(again, "idea-list")
    _add(again, "A second idea")
    ideas = _ideas(where)
    assert ideas[0]["id"] == made["id"] and len(ideas) == 2


def test_an_idea_without_a_title_is_not_added_and_says_why(tmp_path: Path) -> None:
    where = _where(tmp_path, JUNIOR)
    panel = improvement_idea("t1", where=where)
    _add(panel, "   ", benefit="Kept in the box")
    assert "NOT SAVED" in _text(panel, "status") and "title" in _text(panel, "status")
    assert _part(panel, "idea-benefit").value == "Kept in the box"  # type: ignore[attr-defined]
    assert where.context is not None
    assert not (where.context.folder / CHECKIN_FILE).exists()


def test_the_notice_says_ideas_are_shared_with_the_partner_and_facilitator(
    tmp_path: Path,
) -> None:
    panel = improvement_idea("t1", where=_where(tmp_path, JUNIOR))
    notice = _text(panel, "privacy")
    assert IDEAS_NOTICE in notice and "partner" in notice and "facilitator" in notice


def test_damaged_saved_ideas_are_left_out_of_the_list(tmp_path: Path) -> None:
    where = _where(tmp_path, JUNIOR)
    key = where.key(PROMPT, "t1")
    good = {"id": "idea-0000abcd", "title": "Kept", "theme": IDEA_THEMES[0]}
    where.store.save(key, "", data={"ideas": [good, {"id": "bad"}, "text"]})
    listed = _text(improvement_idea("t1", where=where), "idea-list")
    assert "idea-0000abcd Kept" in listed and "bad" not in listed


PROGRAM = validate_program(MANIFEST)
TECH = [m for m in PROGRAM.modules if m.track == "tech"]


@pytest.mark.parametrize("module", TECH, ids=lambda m: m.id)
def test_every_tech_lesson_invites_an_improvement_idea(module: object) -> None:
    notebook = nbformat.read(PROGRAM.lesson_path(module), as_version=4)  # type: ignore[arg-type]
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert f'improvement_idea("{module.id}")' in code  # type: ignore[attr-defined]
    cells = notebook.cells
    [index] = [
        i for i, c in enumerate(cells) if "improvement_idea(" in c.source and c.cell_type == "code"
    ]
    assert "fresh eyes" in cells[index - 1].source.lower()
    assert all(not c.get("outputs") for c in cells if c.cell_type == "code")


def test_lesson_authors_import_it_from_tandem_widgets() -> None:
    from tandem.widgets import improvement_idea as exported

    assert exported is improvement_idea
