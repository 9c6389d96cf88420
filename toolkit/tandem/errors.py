"""Every error Tandem raises on purpose: one base class, readable messages.

The CLI turns any :class:`TandemError` into a one-line message and an exit code;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class TandemError(Exception):
    """Base class: a problem the user can fix, described in one line."""

    exit_code = 1

    def __init__(
        self, message: str, *, path: Path | str | None = None, where: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.where = where

    def __str__(self) -> str:
        location = ""
        if self.path is not None:
            location = str(self.path)
            if self.where:
                location += f" ({self.where})"
            location += ": "
        elif self.where:
            location = f"{self.where}: "
        return f"{location}{self.message}"


class ManifestError(TandemError):
    """`program.yml` is missing, unreadable or invalid."""


class NotebookError(TandemError):
    """A lesson or exercise notebook breaks the curriculum's rules."""


class RosterError(TandemError):
    """A roster or pairs file cannot be used."""


class CohortError(TandemError):
    """A cohort workspace is missing, incomplete or asked to do the impossible."""


class IdError(TandemError):
    """An id cannot be made from a text (no letter or digit), or two texts give one id."""


class HubError(TandemError):
    """The hub's settings are invalid, or the hub cannot be started or stopped here."""


class GradingError(TandemError):
    """Autograding could not run for a module."""


class ReportError(TandemError):
    """A report could not be produced."""


class BatchError(TandemError):
    """A batch run finished with failed jobs."""


class UsageError(TandemError):
    """Bad command-line input."""

    exit_code = 2


class ValidationFailed(TandemError):
    """`tandem validate` found problems; each one is listed."""

    def __init__(self, problems: list[TandemError]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
