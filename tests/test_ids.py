"""The one id policy (tandem.ids): names in any script keep their identity, text with no
letter or digit gives no id, and two sources of one id are refused, naming both."""

from __future__ import annotations

import pytest

from tandem.errors import IdError
from tandem.ids import IdClaims, derive_id, slugify


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bärbel Schmidt", "barbel-schmidt"),
        ("Весна 2027", "vesna-2027"),
        ("Осень 2027", "osen-2027"),
        ("Spring 2027", "spring-2027"),
        ("  São Paulo / Δelta  ", "sao-paulo-delta"),
        ("Ben/../..", "ben"),
    ],
)
def test_text_is_transliterated_to_an_ascii_slug(text: str, expected: str) -> None:
    assert derive_id(text) == expected


def test_names_in_other_scripts_keep_distinct_ids() -> None:
    ids = {derive_id(text) for text in ("Весна 2027", "Осень 2027", "日本", "中国", "日本語")}
    assert len(ids) == 5
    assert "cohort" not in ids and "2027" not in ids


def test_text_without_a_letter_or_digit_gives_no_id() -> None:
    assert slugify("!!!") == ""
    with pytest.raises(IdError, match="cohort name '!!!' has no letter or digit"):
        derive_id("!!!", what="cohort name")


def test_ids_are_at_most_63_characters_and_never_end_in_a_dash() -> None:
    slug = derive_id("a" * 62 + " b")
    assert len(slug) <= 63 and not slug.endswith("-")


def test_a_second_source_of_the_same_id_is_refused_naming_both() -> None:
    claims = IdClaims("job id")
    assert claims.claim("Amara", "jobs.csv:2") == "amara"
    with pytest.raises(IdError) as refused:
        claims.claim("amara", "jobs.csv:5")
    message = str(refused.value)
    assert message.startswith("jobs.csv:5: job id 'amara' repeats jobs.csv:2")
    assert "'Amara'" in message and "'amara' here" in message
    assert "amara" in claims
