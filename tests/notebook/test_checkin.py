"""Check-in files as the facilitator's side reads them: bounded in size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tandem.errors import TandemError
from tandem.notebook.checkin import CHECKIN_FILE, MAX_CHECKIN_BYTES, read_checkin, update_checkin


def _oversized_checkin(folder: Path) -> Path:
    path = folder / CHECKIN_FILE
    text = "x" * (MAX_CHECKIN_BYTES + 1)
    record = {"participant": "j1", "cohort": "c", "module": "m", "shared_reflections": {"p": text}}
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def test_an_oversized_checkin_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = _oversized_checkin(tmp_path)
    with pytest.raises(TandemError) as refused:
        read_checkin(path, participant="j1", module="m")
    message = str(refused.value)
    assert message.startswith(f"{path}: check-in of ")
    assert "is over the limit of 1,000,000" in message
    assert len(message.splitlines()) == 1


def test_the_widgets_rebuild_an_oversized_checkin_instead_of_reading_it(tmp_path: Path) -> None:
    _oversized_checkin(tmp_path)
    checkin = update_checkin(tmp_path, "j1", "c", "m", lambda c: c.answered.append("q1"))
    assert checkin.shared_reflections == {} and checkin.answered == ["q1"]
    assert (tmp_path / CHECKIN_FILE).stat().st_size < 1000
