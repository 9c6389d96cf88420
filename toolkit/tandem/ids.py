"""The one id policy: every id Tandem derives from text a person typed.

Course ids (from a cohort's name), batch job ids (from a column of a jobs table) and,
later, hub account names are made the same way:

* transliterate to ASCII with anyascii (``"Bärbel Schmidt"`` -> ``barbel-schmidt``,
  ``"Весна 2027"`` -> ``vesna-2027``, ``"日本"`` -> ``riben``), so names in any script keep
  their identity instead of all falling back to one word;
* lower-case; every run of other characters becomes one ``-``; at most 63 characters;
* text with no letter or digit at all (``"!!!"``) gives no id: refused, never a default;
* two sources that give the same id are refused, naming both (:class:`IdClaims`).
"""

from __future__ import annotations

import re

from anyascii import anyascii

from tandem.errors import IdError

MAX_LENGTH = 63

_NOT_ID = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """The id of ``text`` under the policy above; ``""`` when it has no letter or digit."""
    ascii_text = anyascii(text).lower()
    slug = _NOT_ID.sub("-", ascii_text).strip("-")
    return slug[:MAX_LENGTH].rstrip("-")


def derive_id(text: str, *, what: str = "id", where: str | None = None) -> str:
    """The id of ``text``; :class:`IdError` when it has no letter or digit to keep."""
    slug = slugify(text)
    if not slug:
        raise IdError(f"{what} {text!r} has no letter or digit to make an id from", where=where)
    return slug


class IdClaims:
    """Ids handed out so far, each with the source it came from: a second source giving
    the same id is refused with both named (``"Amara"`` on line 2, ``"amara"`` on line 5).
    """

    def __init__(self, what: str = "id") -> None:
        self.what = what
        self._sources: dict[str, tuple[str, str]] = {}

    def claim(self, text: str, source: str) -> str:
        """The id of ``text`` (found at ``source``, e.g. ``"jobs.csv:3"``), now taken."""
        new_id = derive_id(text, what=self.what, where=source)
        if new_id in self._sources:
            earlier_text, earlier = self._sources[new_id]
            raise IdError(
                f"{self.what} {new_id!r} repeats {earlier} (made from {earlier_text!r} "
                f"there and {text!r} here): make the two distinct",
                where=source,
            )
        self._sources[new_id] = (text, source)
        return new_id

    def __contains__(self, some_id: object) -> bool:
        return some_id in self._sources


__all__ = ["MAX_LENGTH", "IdClaims", "derive_id", "slugify"]
