"""Data rights: export everything Tandem holds about a participant, or erase it.

Two places can hold a participant's data: their own private store (``$TANDEM_HOME``,
on their side) and a cohort workspace (on the facilitator's side). Both functions take
either or both.

Erasure removes the participant from ``cohort.yml`` (their partner becomes unpaired),
their folders in ``submitted/``, ``autograded/``, ``feedback/`` and ``quarantine/``, their
submissions in the exchange's inbound folder, their gradebook rows (then compacts the
database so no deleted row lingers in the file), their entries in run manifests, the
exports, and every report: reports are rebuilt without them when they had been built.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tandem.cohort.exchange import read_checkins
from tandem.cohort.workspace import Workspace, refresh_contexts
from tandem.errors import CohortError
from tandem.fsutil import atomic_write_json, check_id
from tandem.grading.checkpoints import read_score
from tandem.notebook.store import Store

PERSONAL_FOLDERS = ("submitted", "autograded", "feedback", "quarantine")


def export_participant(
    participant: str, *, workspace: Path | str | None = None, store: Store | None = None
) -> dict[str, Any]:
    """All data about ``participant`` as plain JSON-able values."""
    check_id(participant, what="participant id")
    out: dict[str, Any] = {
        "participant": participant,
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if store is not None:
        out["private_store"] = {"root": str(store.root), "answers": store.export(participant)}
    if workspace is not None:
        out["cohort"] = _cohort_export(Workspace(workspace), participant)
    return out


def _cohort_export(ws: Workspace, participant: str) -> dict[str, Any]:
    cohort = ws.load()
    person = cohort.participant(participant)
    program = ws.program(cohort)
    modules = [m for s in program.sessions if s.id in cohort.released for m in s.modules]
    pair = cohort.pair_of(participant)
    checkins, scores, files = {}, {}, []
    for module in modules:
        found, _ = read_checkins(ws, cohort, module.id)
        if participant in found:
            checkins[module.id] = found[participant].model_dump()
        score = read_score(ws, cohort, module.id, participant)
        if score is not None:
            scores[module.id] = {
                "autograded": score.auto_score,
                "autograded_max": score.auto_max,
                "written": score.manual_score,
                "written_max": score.manual_max,
                "written_pending": score.manual_pending,
            }
    for folder in PERSONAL_FOLDERS:
        base = ws.folder(folder) / participant
        files += [str(p.relative_to(ws.root)) for p in sorted(base.rglob("*")) if p.is_file()]
    return {
        "name": cohort.name,
        "profile": person.model_dump(),
        "pair": pair.model_dump() if pair else None,
        "check_ins": checkins,
        "checkpoint_scores": scores,
        "files": files,
    }


def erase_participant(
    participant: str, *, workspace: Path | str | None = None, store: Store | None = None
) -> list[str]:
    """Delete ``participant``'s data everywhere given; return what was removed."""
    check_id(participant, what="participant id")
    removed: list[str] = []
    if store is not None:
        files = store.erase(participant)
        if files:
            removed.append(f"private store: {len(files)} files under {store.root / participant}")
    if workspace is not None:
        removed += _erase_from_workspace(Workspace(workspace), participant)
    return removed


def _erase_from_workspace(ws: Workspace, participant: str) -> list[str]:
    """Files first, then the gradebook and cohort.yml: if a file cannot be removed (e.g. an
    exchange copy owned by the participant's own account), nothing is forgotten yet and
    the command can be run again once the permission is fixed."""
    removed: list[str] = []
    with ws.locked():
        cohort = ws.load()
        cohort.participant(participant)  # raises if unknown
        inbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "inbound"
        targets = [(ws.folder(f) / participant, f"{f}/{participant}/") for f in PERSONAL_FOLDERS]
        if inbound.is_dir():
            targets += [
                (e, f"exchange inbound: {e.name}") for e in sorted(inbound.glob(f"{participant}+*"))
            ]
        for target, label in targets:
            if not target.exists():
                continue
            try:
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            except OSError as exc:
                raise CohortError(
                    f"cannot remove {target}: {exc.strerror or exc}. Nothing else was changed "
                    "for this step; fix the permission (e.g. as root) and run the command "
                    "again",
                    path=target,
                ) from None
            removed.append(label)
        removed += _erase_from_gradebook(ws, cohort, participant)
        removed += _erase_from_runs(ws, participant)
        pair = cohort.pair_of(participant)
        cohort.participants = [p for p in cohort.participants if p.id != participant]
        cohort.unpaired = [p for p in cohort.unpaired if p != participant]
        cohort.withdrawn = [p for p in cohort.withdrawn if p != participant]
        cohort.former_pairs = [p for p in cohort.former_pairs if participant not in p.members]
        if pair is not None:
            cohort.pairs = [p for p in cohort.pairs if p.id != pair.id]
            partner = pair.senior if pair.junior == participant else pair.junior
            cohort.unpaired.append(partner)
            removed.append(f"cohort.yml: profile; {pair.id} dissolved ({partner} is unpaired)")
        ws.save(cohort)
        if refresh_contexts(ws, cohort):
            removed.append("context files of released modules: rewritten without them")
    if ws.folder("exports").is_dir():
        shutil.rmtree(ws.folder("exports"))
        removed.append("exports/: removed (export again when needed)")
    if (ws.folder("reports") / "index.html").exists():
        shutil.rmtree(ws.folder("reports"))
        shutil.rmtree(ws.folder("runs") / "notebooks", ignore_errors=True)
        from tandem.reports.build import build_reports

        build_reports(ws.root)
        removed.append("reports/: rebuilt without them")
    return removed


def _erase_from_gradebook(ws: Workspace, cohort: Any, participant: str) -> list[str]:
    from nbgrader.api import MissingEntry

    with ws.gradebook(cohort) as gradebook:
        try:
            gradebook.remove_student(participant)
        except MissingEntry:
            return []
    database = ws.root / "gradebook.db"
    with sqlite3.connect(database) as connection:  # drop deleted rows from the file itself
        connection.execute("VACUUM")
    return ["gradebook: student and submissions"]


def _erase_from_runs(ws: Workspace, participant: str) -> list[str]:
    removed = []
    for manifest in sorted(ws.folder("runs").glob("*.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        results = data.get("results")
        if isinstance(results, list):
            kept = [r for r in results if r.get("participant") != participant]
            if len(kept) != len(results):
                data["results"] = kept
                atomic_write_json(manifest, data)
                removed.append(f"runs/{manifest.name}: {len(results) - len(kept)} records")
    return removed


def write_export(data: dict[str, Any], out: Path) -> Path:
    if out.exists():
        raise CohortError("refusing to overwrite an existing file", path=out)
    atomic_write_json(out, data)
    return out
