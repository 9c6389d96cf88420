"""Where the programme manifest is: the one the user named, ``$TANDEM_CURRICULUM``, the
current folder's, or the one a cohort was made from; and the error that says how to point
at one when it is missing. (Re-exported by :mod:`tandem.curriculum.manifest`.)"""

from __future__ import annotations

import os
from pathlib import Path

from tandem.errors import ManifestError

DEFAULT_MANIFEST_ENV = "TANDEM_CURRICULUM"


def default_manifest(start: Path | None = None) -> Path:
    """Where to look for `program.yml` when the user names none.

    Precedence: ``$TANDEM_CURRICULUM``, then ``curriculum/program.yml`` under the
    current directory.
    """
    env = os.environ.get(DEFAULT_MANIFEST_ENV)
    if env:
        return Path(env)
    return (start or Path.cwd()) / "curriculum" / "program.yml"


def cohort_manifest(recorded: str, cohort_file: Path) -> Path:
    """The manifest a cohort was made from, as its ``cohort.yml`` records it (a relative
    path is relative to the cohort's folder): never the current directory's, so commands
    on a cohort run from anywhere."""
    path = Path(recorded).expanduser()
    if not path.is_absolute():
        path = cohort_file.parent / path
    if not path.is_file():
        raise ManifestError(
            f"the curriculum this cohort was made from is not at {path}: put it back, "
            "or set 'curriculum' to the program.yml it uses now",
            path=cohort_file,
            where="curriculum",
        )
    return path


def manifest_not_found(path: Path) -> ManifestError:
    """Manifest not found, saying how to point at a curriculum when the user named none
    (the default place, or ``$TANDEM_CURRICULUM``'s)."""
    if path != default_manifest():
        return ManifestError("manifest not found", path=path)
    if os.environ.get(DEFAULT_MANIFEST_ENV):
        return ManifestError(
            f"manifest not found (from ${DEFAULT_MANIFEST_ENV}): set it to a program.yml, "
            "or give --curriculum PATH",
            path=path,
        )
    return ManifestError(
        "manifest not found: run Tandem in the folder that holds curriculum/, give "
        f"--curriculum PATH/program.yml, or set {DEFAULT_MANIFEST_ENV}=PATH/program.yml",
        path=path,
    )
