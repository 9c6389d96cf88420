"""Participants: loading a roster CSV and a pairs CSV, with errors that name the line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tandem.curriculum.manifest import Role
from tandem.errors import RosterError, TandemError
from tandem.fsutil import check_id

REQUIRED_COLUMNS = ("id", "name", "email", "role")
OPTIONAL_COLUMNS = ("department",)
ROLES: tuple[Role, ...] = ("junior", "senior")


class Participant(BaseModel):
    """One person in a cohort. ``extra`` keeps the roster's other columns (lower-cased
    names), e.g. the ``rate_<competency>`` and other columns read by
    :mod:`tandem.people.matching`."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    email: str
    role: Role
    department: str = ""
    extra: dict[str, str] = Field(default_factory=dict, exclude=True)
    line: int | None = Field(default=None, exclude=True, repr=False)
    """The roster line this participant was read from (for error messages)."""

    @property
    def first_name(self) -> str:
        """The given name, for nbgrader (formgrader shows "last, first")."""
        return name_parts(self.name)[0]

    @property
    def last_name(self) -> str:
        """The family name, for nbgrader; "" for a one-word name."""
        return name_parts(self.name)[1]


def _family_first(text: str) -> bool:
    """Names in Chinese, Japanese or Korean script are written family name first."""
    return bool(text) and any(
        start <= ord(text[0]) <= end
        for start, end in ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))
    )


def name_parts(name: str) -> tuple[str, str]:
    """(given, family) as people write their names: "Eva Lindqvist" and "Lindqvist, Eva"
    give ("Eva", "Lindqvist"); "王芳" is family name first ("芳", "王"), with a spelling in
    another script beside each part ("王芳 (Wang Fang)": "芳 (Fang)", "王 (Wang)"); any
    other aside in brackets stays with the given name ("Robert (Bob) Smith")."""
    text = " ".join(name.split())
    aside = ""
    if (opened := text.find("(")) != -1 and (closed := text.find(")", opened)) != -1:
        aside = text[opened + 1 : closed].strip()
        text = " ".join((text[:opened] + text[closed + 1 :]).split())
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
    elif _family_first(text):
        if " " in text:
            family, given = text.split(" ", 1)
        else:  # one or, in a four-character name, two characters of family name
            cut = 2 if len(text) >= 4 else 1
            family, given = text[:cut], text[cut:]
    else:
        given, _, family = text.partition(" ")
    if aside:
        spelled = aside.split()
        if _family_first(text) and len(spelled) == 2 and given and family:
            return f"{given} ({spelled[1]})", f"{family} ({spelled[0]})"
        given = f"{given} ({aside})" if given else f"({aside})"
    return given, family


class Pair(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    junior: str
    senior: str

    def member(self, role: Role) -> str:
        return self.junior if role == "junior" else self.senior

    @property
    def members(self) -> tuple[str, str]:
        return (self.junior, self.senior)


def _read_csv(path: Path, what: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Rows of a UTF-8 CSV (a BOM is accepted) with their line numbers."""
    if not path.is_file():
        raise RosterError(f"{what} file not found", path=path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RosterError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8 CSV",
            path=path,
            where=f"line {line}",
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=_dialect(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise RosterError(f"{what} file is empty", path=path)
    reader.fieldnames = header
    rows = []
    for row in reader:
        if all(not (v or "").strip() for k, v in row.items() if k is not None):
            continue
        if None in row:
            raise RosterError(
                "more fields than the header has", path=path, where=f"line {reader.line_num}"
            )
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return header, rows


class _Semicolon(csv.excel):
    delimiter = ";"


def _dialect(text: str) -> type[csv.Dialect]:
    """Comma-separated unless the header line is plainly separated by ';' or a tab, as
    Excel writes CSV where the decimal separator is a comma (much of Europe)."""
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        return csv.excel
    return {";": _Semicolon, "\t": csv.excel_tab}.get(delimiter, csv.excel)


def _require_columns(path: Path, header: Iterable[str], required: Iterable[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise RosterError(
            f"missing column{'s' if len(missing) > 1 else ''}: " + ", ".join(missing),
            path=path,
            where="header",
        )


def load_roster(path: Path | str) -> list[Participant]:
    """Read participants from a CSV with columns id, name, email, role[, department].

    Other columns (e.g. the matching columns of docs/matching.md) go to ``extra``.
    """
    path = Path(path)
    header, rows = _read_csv(path, "roster")
    _require_columns(path, header, REQUIRED_COLUMNS)
    seen: dict[str, tuple[str, int]] = {}  # id, case-folded -> (id as written, line)
    emails: dict[str, tuple[str, int]] = {}
    participants = []
    for line, row in rows:
        where = f"line {line}"
        for column in REQUIRED_COLUMNS:
            if not row[column]:
                raise RosterError(f"empty {column!r}", path=path, where=where)
        try:
            pid = check_id(row["id"], what="participant id")
        except TandemError as exc:
            raise RosterError(exc.message, path=path, where=f"{where}, field 'id'") from None
        _refuse_repeat(seen, pid, line, "id", path)
        role = row["role"].lower()
        if role not in ROLES:
            raise RosterError(
                f"unknown role {row['role']!r} (expected junior or senior)",
                path=path,
                where=f"{where}, field 'role'",
            )
        if "@" not in row["email"]:
            raise RosterError(
                f"{row['email']!r} is not an email address",
                path=path,
                where=f"{where}, field 'email'",
            )
        _refuse_repeat(emails, row["email"], line, "email", path)
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
        participants.append(
            Participant(
                id=pid,
                name=row["name"],
                email=row["email"],
                role=role,
                department=row.get("department", ""),
                extra={k: v for k, v in row.items() if k not in known},
                line=line,
            )
        )
    if not participants:
        raise RosterError("roster has no participants", path=path)
    return participants


def _refuse_repeat(
    seen: dict[str, tuple[str, int]], value: str, line: int, column: str, path: Path
) -> None:
    """Refuse a value already on an earlier line, ignoring case (``Amara``, ``amara``):
    ids name folders and accounts, and an email is one person's."""
    key = value.casefold()
    if key in seen:
        first, first_line = seen[key]
        as_written = "" if first == value else f" as {first!r}: they differ only in case"
        raise RosterError(
            f"duplicate {column} {value!r} (first on line {first_line}{as_written})",
            path=path,
            where=f"line {line}",
        )
    seen[key] = (value, line)


def pairs_in_roster_order(participants: Iterable[Participant]) -> tuple[list[Pair], list[str]]:
    """Pair the n-th junior with the n-th senior; return the pairs and who is left over."""
    people = list(participants)
    juniors = [p.id for p in people if p.role == "junior"]
    seniors = [p.id for p in people if p.role == "senior"]
    pairs = [
        Pair(id=pair_id(i), junior=j, senior=s)
        for i, (j, s) in enumerate(zip(juniors, seniors, strict=False), start=1)
    ]
    count = len(pairs)
    return pairs, juniors[count:] + seniors[count:]


def pair_id(number: int) -> str:
    return f"pair-{number:02d}"


def load_pairs(path: Path | str, participants: Mapping[str, Participant]) -> list[Pair]:
    """Read pairs from a CSV with columns junior, senior (and optionally id)."""
    path = Path(path)
    header, rows = _read_csv(path, "pairs")
    _require_columns(path, header, ("junior", "senior"))
    used: dict[str, int] = {}
    pairs = []
    for number, (line, row) in enumerate(rows, start=1):
        where = f"line {line}"
        for role in ROLES:
            pid = row[role]
            person = participants.get(pid)
            if person is None:
                raise RosterError(
                    f"{role} {pid!r} is not in the roster",
                    path=path,
                    where=f"{where}, field {role!r}",
                )
            if person.role != role:
                raise RosterError(
                    f"{pid!r} is a {person.role} in the roster, not a {role}",
                    path=path,
                    where=f"{where}, field {role!r}",
                )
            if pid in used:
                raise RosterError(
                    f"{pid!r} is already paired on line {used[pid]}", path=path, where=where
                )
            used[pid] = line
        given = row.get("id") or pair_id(number)
        try:
            check_id(given, what="pair id")
        except TandemError as exc:
            raise RosterError(exc.message, path=path, where=f"{where}, field 'id'") from None
        pairs.append(Pair(id=given, junior=row["junior"], senior=row["senior"]))
    if len({p.id for p in pairs}) != len(pairs):
        raise RosterError("pair ids must be unique", path=path, where="field 'id'")
    return pairs
