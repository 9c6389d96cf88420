"""The author's private store: every revision of every answer, on the author's side only.

Layout: ``$TANDEM_HOME/<participant>/<cohort>/<module>/<prompt>.json``, each file a JSON
object ``{"key": {...}, "revisions": [{"at", "text", "shared"}, ...]}``. ``$TANDEM_HOME``
defaults to the user's data directory (e.g. ``~/.local/share/tandem``); it is never
inside an assignment folder, so nbgrader never carries it.

A save re-reads the file, appends a revision and replaces the file atomically (temp
file, fsync, rename) while holding a lock, so two kernels of the same user saving at
once lose no revision and never leave a torn file.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from tandem.errors import TandemError
from tandem.fsutil import atomic_write_text, check_id

HOME_ENV = "TANDEM_HOME"
MAX_TEXT = 100_000  # characters per answer: several pages; a runaway paste is refused


class StoreError(TandemError):
    """The private store could not be read or written."""


@dataclass(frozen=True)
class Key:
    participant: str
    cohort: str
    module: str
    prompt: str

    def parts(self) -> tuple[str, str, str, str]:
        return (
            check_id(self.participant, what="participant id"),
            check_id(self.cohort, what="cohort id"),
            check_id(self.module, what="module id"),
            check_id(self.prompt, what="prompt id"),
        )


@dataclass(frozen=True)
class Revision:
    at: str
    text: str
    shared: bool = False
    data: dict[str, Any] | None = None


def home() -> Path:
    """The store's root: ``$TANDEM_HOME``, else the user's data directory."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("tandem", appauthor=False))


class Store:
    """One user's private store."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else home()

    def path(self, key: Key) -> Path:
        participant, cohort, module, prompt = key.parts()
        return self.root / participant / cohort / module / f"{prompt}.json"

    def _lock(self, path: Path) -> FileLock:
        return FileLock(str(path.with_suffix(".lock")), timeout=30)

    def save(
        self, key: Key, text: str, *, shared: bool = False, data: dict[str, Any] | None = None
    ) -> Revision:
        """Append a revision; raise :class:`StoreError` saying why if it cannot be kept."""
        if not isinstance(text, str):
            raise StoreError(f"expected text, got {type(text).__name__}")
        if len(text) > MAX_TEXT:
            raise StoreError(
                f"the answer is {len(text):,} characters; the limit is "
                f"{MAX_TEXT:,}. Shorten it or split it over two answers."
            )
        path = self.path(key)
        revision = Revision(
            datetime.now(timezone.utc).isoformat(timespec="microseconds"), text, shared, data
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock(path):
                document = self._read(path) or {"key": asdict(key), "revisions": []}
                document["revisions"].append(asdict(revision))
                atomic_write_text(path, json.dumps(document, ensure_ascii=True), mode=0o600)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
        return revision

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            document: dict[str, Any] = json.loads(raw)
            return document
        except ValueError:
            raise StoreError(f"{path} is not valid JSON; it has been left untouched") from None

    def revisions(self, key: Key) -> list[Revision]:
        document = self._read(self.path(key))
        if document is None:
            return []
        return [Revision(**r) for r in document["revisions"]]

    def latest(self, key: Key) -> Revision | None:
        revisions = self.revisions(key)
        return revisions[-1] if revisions else None

    # -- data rights ---------------------------------------------------------------------
    def export(self, participant: str) -> list[dict[str, Any]]:
        """Every answer the participant has stored, with all revisions."""
        base = self.root / check_id(participant, what="participant id")
        out = []
        for path in sorted(base.rglob("*.json")) if base.is_dir() else []:
            document = self._read(path)
            if document is not None:
                out.append(document)
        return out

    def erase(self, participant: str) -> list[Path]:
        """Delete the participant's whole store; return the files removed."""
        base = self.root / check_id(participant, what="participant id")
        if not base.is_dir():
            return []
        removed = sorted(p for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base)
        return removed
