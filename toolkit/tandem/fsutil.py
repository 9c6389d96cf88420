"""Small filesystem helpers: atomic writes, slugs, paths kept under their root."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tandem.errors import TandemError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_id(value: str, *, what: str = "id") -> str:
    """Return ``value`` if it is safe to use as a file or folder name, else raise."""
    if not _ID.match(value) or value in {".", ".."} or ".." in value:
        raise TandemError(
            f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def slugify(text: str) -> str:
    """A lowercase slug of ``text`` (letters, digits and '-')."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:63] or "cohort"


def under(root: Path, *parts: str) -> Path:
    """Join ``parts`` onto ``root`` and refuse a result outside ``root``."""
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root.resolve()):
        raise TandemError(f"path {'/'.join(parts)!r} leaves {root}")
    return path


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` via a temp file, fsync and rename: never a torn file.

    The file keeps the permissions of the file it replaces, else gets ``mode`` (default
    0o644: readable by others, as files in nbgrader's exchange must be). Pass 0o600 for
    what only its owner may read.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def replace_tree(source: Path, dest: Path) -> None:
    """Make ``dest`` an exact copy of ``source``."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        source, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
