"""Submissions made from another participant's account are refused at collect (on a hub).

nbgrader names a submission after ``CourseDirectory.student_id``, which a participant can
set for themself (in their own nbgrader configuration, or ``nbgrader submit --student``):
on its own, the exchange would let Amara hand in work as Peter. What cannot be forged is
the owner of the copy in ``inbound/``: the Unix account that made it. A workspace whose
hub accounts were made by Tandem records them (``hub.json``: roster id -> account, written
by ``tandem hub users --apply`` and ``tandem hub up``); collect then checks every inbound
copy of a module against the account of the id it names. A copy made by another account
is moved out of the exchange into the workspace's ``refused/`` (kept, for the facilitator
to look at), the collected folder is replaced by the newest genuine copy, or removed when
there is none, and the collect report names both accounts.
"""

from __future__ import annotations

import json
import pwd
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.cohort.strays import _inbound_owner, inbound_dir
from tandem.cohort.workspace import Cohort, Workspace
from tandem.errors import CohortError, TandemError

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

HUB_RECORD = "hub.json"
REFUSED = "refused"


def hub_accounts(ws: Workspace) -> dict[str, str]:
    """Roster id -> Unix account, as recorded when the hub accounts were made ({} when
    the cohort is not on a hub made by Tandem)."""
    try:
        record = json.loads((ws.root / HUB_RECORD).read_text(encoding="utf-8"))
        accounts = record.get("accounts", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(accounts, dict):
        return {}
    return {str(k): str(v) for k, v in accounts.items()}


def _uid(account: str) -> int | None:
    try:
        return pwd.getpwnam(account).pw_uid
    except KeyError:
        return None


def _name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def refuse_forged(
    ws: Workspace, cohort: Cohort, module: str, api: NbGraderAPI
) -> list[TandemError]:
    """Refuse the inbound copies of ``module`` made from an account not their id's (see
    the module docstring); one error per copy refused."""
    accounts = hub_accounts(ws)
    inbound = inbound_dir(ws, cohort)
    if not accounts or not inbound.is_dir():
        return []
    problems: list[TandemError] = []
    for copy in sorted(inbound.iterdir()):
        owner = _inbound_owner(copy.name)
        if owner is None or owner[1] != module or owner[0] not in accounts:
            continue
        student, account = owner[0], accounts[owner[0]]
        expected = _uid(account)
        made_by = copy.lstat().st_uid
        if expected is None or made_by == expected:
            continue
        kept = ws.folder(REFUSED) / copy.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(copy, kept, symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(copy)
        shutil.rmtree(ws.submission_dir(student, module), ignore_errors=True)
        problems.append(
            CohortError(
                f"a submission of {module} under {student} was made by account "
                f"{_name(made_by)}, not by {student}'s account {account}: refused (kept in "
                f"{REFUSED}/{copy.name}); {student}'s own latest submission, if any, is "
                "collected instead",
                path=Path(REFUSED) / copy.name,
            )
        )
    if problems:
        api.collect(module, update=True)  # the newest genuine copies
    return problems


__all__ = ["HUB_RECORD", "REFUSED", "hub_accounts", "refuse_forged"]
