"""Hostile text from people (roster, check-ins, shared reflections, the cohort name) is data
on every report page: escaped and shown, never run, never a link that runs script."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tandem.cohort.exchange import write_checkin
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.grading.checkpoints import grade_session
from tandem.htmlpage import CONTENT_SECURITY_POLICY, page, safe_href, table
from tandem.notebook.checkin import CheckIn, Feedback
from tandem.reports.build import build_reports

from ..factories import submit

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'
SVG = "<svg onload=alert(2)>"
IFRAME = '<iframe src="javascript:alert(3)"></iframe>'
LINK = "[click me](javascript:alert(4))"

NAME = f"Ada {SCRIPT}"
DEPARTMENT = f"IT {IMG}"
COHORT = f"Cohort {SVG} {LINK}"
COMMENT = f"Great {IFRAME} {LINK}"
REFLECTION = f"I will <b>post</b> {SCRIPT} {IMG} {LINK}"
COMPETENCY = IMG  # a self-assessment key is text from the participant too


@dataclass
class Page(HTMLParser):
    """What a browser would see in a page: its elements, attributes and visible text."""

    tags: list[tuple[str, list[tuple[str, str | None]]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _roster() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "email", "role", "department"])
    writer.writerow(["j1", NAME, "ada@example.org", "junior", DEPARTMENT])
    writer.writerow(["s1", f"Sam {SVG}", "sam@example.org", "senior", "Operations"])
    return out.getvalue()


@pytest.fixture
def hostile_reports(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> Workspace:
    """A cohort whose people typed markup everywhere, graded and reported for real."""
    root = tmp_path / "cohort"
    init_cohort(root, write_roster(_roster()), curriculum=tiny_programme, name=COHORT)
    ws = Workspace(root)
    release_session(root, "s1")
    # tiny-tech: the junior leads, the senior learns; tiny-mgmt the other way round.
    for learner, partner, module in (("s1", "j1", "tiny-tech"), ("j1", "s1", "tiny-mgmt")):
        folder = submit(ws, learner, module, "full")
        write_checkin(
            folder,
            CheckIn(
                participant=learner,
                cohort=COHORT,
                module=module,
                self_assessment={"before": {COMPETENCY: 4}, "after": {COMPETENCY: 2}},
                feedback=Feedback(clarity=2, relevance=4, pace=3, comment=COMMENT),
                shared_reflections={f"prompt {SCRIPT}": REFLECTION},
            ),
        )
        other = submit(ws, partner, module, "blank")
        write_checkin(
            other,
            CheckIn(
                participant=partner,
                cohort=COHORT,
                module=module,
                shared_reflections={"prompt": f"partner says {IFRAME}"},
            ),
        )
    grade_session(root, "s1")
    result = build_reports(root)
    assert result.failed == [], [r.error for r in result.failed]
    return ws


def _unsafe_url(value: str) -> bool:
    squeezed = "".join(ch for ch in value if ch > " ").lower()
    return squeezed.startswith(("javascript:", "vbscript:")) or (
        squeezed.startswith("data:") and not squeezed.startswith("data:image/png")
    )


def test_hostile_text_never_becomes_markup_on_any_report_page(
    hostile_reports: Workspace,
) -> None:
    pages = sorted(hostile_reports.folder("reports").rglob("*.html"))
    # index, programme, director, facilitator index, check-ins, ideas, one pair page
    assert len(pages) == 7
    for path in pages:
        page = parse(path)
        tags = [tag for tag, _ in page.tags]
        for forbidden in ("script", "iframe", "svg", "object", "embed", "form", "base"):
            assert forbidden not in tags, (path, forbidden)
        for tag, attrs in page.tags:
            for name, value in attrs:
                assert not name.startswith("on"), (path, tag, name, value)
                if value is not None and name in ("href", "src", "action", "formaction"):
                    assert not _unsafe_url(value), (path, tag, name, value)
        policies = [
            dict(attrs).get("content")
            for tag, attrs in page.tags
            if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"
        ]
        assert policies == [CONTENT_SECURITY_POLICY], path


def test_hostile_text_is_shown_as_the_text_people_typed(hostile_reports: Workspace) -> None:
    reports = hostile_reports.folder("reports")
    pair = parse(reports / "facilitator" / "pairs" / "pair-01.html").visible
    for typed in (COHORT, NAME, DEPARTMENT, f"Sam {SVG}", COMMENT, REFLECTION, COMPETENCY):
        assert typed in pair, typed
    assert f"partner says {IFRAME}" in pair
    assert COHORT in parse(reports / "programme" / "index.html").visible
    assert COHORT in parse(reports / "index.html").visible
    facilitator = parse(reports / "facilitator" / "index.html").visible
    assert NAME in facilitator and COHORT in facilitator
    assert COMPETENCY in parse(reports / "facilitator" / "check-ins.html").visible


def test_the_policy_forbids_scripts_and_keeps_inline_styles_and_embedded_charts() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'"
    )


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://example.org/a?b=1", True),
        ("http://example.org", True),
        ("pairs/pair-01.html", True),
        ("../programme/index.html", True),
        ("#section", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("//evil.example/x", False),
        ("mailto:someone@example.org", False),
    ],
)
def test_links_go_only_to_web_pages_or_relative_paths(href: str, kept: bool) -> None:
    assert (safe_href(href) is not None) is kept


def test_tables_and_titles_escape_every_header_and_cell() -> None:
    html = page(SCRIPT, table([IMG, "n"], [[SVG, 3], [None, 2.50]]))
    parsed = Page()
    parsed.feed(html)
    assert [tag for tag, _ in parsed.tags if tag in ("script", "img", "svg")] == []
    assert SCRIPT in parsed.visible and IMG in parsed.visible and SVG in parsed.visible
    assert "<td>-</td><td>2.5</td>" in html
