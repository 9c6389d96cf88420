"""One deterministic mapping from roster id to hub username to Unix account.

A roster id allows capitals, dots, ``_`` and ``-`` and 64 characters; JupyterHub
lower-cases usernames; Debian's ``adduser`` wants ``^[a-z][-a-z0-9_]*$`` and ``useradd``
at most 32 characters. So a participant's account is::

    prefix + slug(id)                      e.g. "Ann.Lee" -> "tdm-ann-lee"

where ``slug`` is the one id policy of :mod:`tandem.ids` (lower case, every run of other
characters, ``.`` and ``_`` included, one ``-``, none at either end), without its cut at
63 characters. A name longer than 32 characters is cut
and ends with ``-`` and six hex digits of the slug's SHA-256, so it stays the same on
every run and every machine. The hub username is the Unix name: the LocalProcessSpawner
runs each hub user's server as the Unix user of the same name.

Two roster ids giving one account (``Ann.Lee`` and ``ann-lee``) are refused, naming both:
one Unix account must never belong to two people.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tandem.errors import CohortError, IdError

if TYPE_CHECKING:
    from tandem.cohort.workspace import Cohort

#: useradd's limit on a user or group name.
MAX_NAME = 32
#: Debian's adduser NAME_REGEX (``/etc/adduser.conf``), stricter than useradd's.
UNIX_NAME = re.compile(r"^[a-z][-a-z0-9_]*$")
DEFAULT_PREFIX = "tdm-"
#: A prefix leaves room for a group name: prefix + 8 characters + "-participants".
MAX_PREFIX = 10
HOME_MODE = 0o700
_HASH = 6
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _NOT_NAME.sub("-", text.lower()).strip("-")


def check_prefix(prefix: str) -> str:
    """``prefix`` if it can start every account name, else :class:`IdError`."""
    if not (UNIX_NAME.match(prefix) and len(prefix) <= MAX_PREFIX):
        raise IdError(
            f"account prefix {prefix!r} must be 1-{MAX_PREFIX} characters: a lower-case "
            "letter, then lower-case letters, digits, '_' or '-' (e.g. 'tdm-')"
        )
    return prefix


def check_unix_name(name: str, *, what: str = "account name") -> str:
    """``name`` if it is a valid Unix user or group name here, else :class:`IdError`."""
    if not (UNIX_NAME.match(name) and len(name) <= MAX_NAME):
        raise IdError(
            f"{what} {name!r} must be 1-{MAX_NAME} characters: a lower-case letter, then "
            "lower-case letters, digits, '_' or '-'"
        )
    return name


def _fit(prefix: str, body: str, suffix: str = "") -> str:
    """``prefix + body + suffix``, with ``body`` cut and hashed to fit :data:`MAX_NAME`."""
    name = f"{prefix}{body}{suffix}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(body.encode("ascii")).hexdigest()[:_HASH]
    room = MAX_NAME - len(prefix) - len(suffix) - _HASH - 1
    return f"{prefix}{body[:room].rstrip('-')}-{digest}{suffix}"


def hub_user(participant_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The hub username, which is also the Unix account, of ``participant_id``."""
    check_prefix(prefix)
    slug = _slug(participant_id)
    if not slug:
        raise IdError(f"participant id {participant_id!r} has no letter or digit")
    return _fit(prefix, slug)


def group_names(course_id: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str]:
    """The Unix groups of a course: its participants' and its facilitators'."""
    check_prefix(prefix)
    course = _slug(course_id) or "course"
    return _fit(prefix, course, "-participants"), _fit(prefix, course, "-facilitators")


@dataclass(frozen=True)
class Account:
    """A Unix account the hub needs: a participant's (``participant`` is their roster id)
    or the facilitator's (``participant`` is None). A withdrawn participant's account is
    kept, locked: ``active`` is False."""

    name: str
    participant: str | None
    groups: tuple[str, ...]
    active: bool = True
    home_mode: int = HOME_MODE

    @property
    def home(self) -> str:
        return f"/home/{self.name}"


@dataclass(frozen=True)
class AccountPlan:
    """Every group and account of one cohort on the hub."""

    cohort: str
    course_id: str
    prefix: str
    participants_group: str
    facilitators_group: str
    accounts: tuple[Account, ...]

    @property
    def groups(self) -> tuple[str, str]:
        return self.participants_group, self.facilitators_group

    def account_of(self, participant_id: str) -> Account:
        return next(a for a in self.accounts if a.participant == participant_id)


def account_plan(
    cohort: Cohort, prefix: str = DEFAULT_PREFIX, facilitator: str | None = None
) -> AccountPlan:
    """The accounts and groups of ``cohort``'s roster (withdrawn participants included,
    to be locked) and of its facilitator; :class:`CohortError` on any name given twice."""
    check_prefix(prefix)
    participants_group, facilitators_group = group_names(cohort.course_id, prefix)
    owners: dict[str, str] = {
        participants_group: f"the group of {cohort.course_id}'s participants",
        facilitators_group: f"the group of {cohort.course_id}'s facilitators",
    }
    accounts = []
    for person in cohort.participants:
        name = hub_user(person.id, prefix)
        _claim(owners, name, f"participant {person.id!r}")
        active = person.id not in cohort.withdrawn
        accounts.append(Account(name, person.id, (participants_group,), active=active))
    if facilitator is not None:
        check_unix_name(facilitator, what="facilitator account")
        _claim(owners, facilitator, "the facilitator")
        accounts.append(Account(facilitator, None, (facilitators_group,)))
    return AccountPlan(
        cohort=cohort.name,
        course_id=cohort.course_id,
        prefix=prefix,
        participants_group=participants_group,
        facilitators_group=facilitators_group,
        accounts=tuple(accounts),
    )


def _claim(owners: dict[str, str], name: str, owner: str) -> None:
    if name in owners:
        raise CohortError(
            f"{owners[name]} and {owner} would both be Unix account {name!r}: "
            "one account cannot be two people's; make the ids differ in more than case "
            "and punctuation"
        )
    owners[name] = owner


__all__ = [
    "DEFAULT_PREFIX",
    "HOME_MODE",
    "MAX_NAME",
    "UNIX_NAME",
    "Account",
    "AccountPlan",
    "account_plan",
    "check_prefix",
    "check_unix_name",
    "group_names",
    "hub_user",
]
