"""What the demo's people do beyond the sessions (Kirkpatrick level 3), for `tandem demo`:
the improvement ideas they record at Northwind, a logistics company, what the facilitator
records became of them, and their answers to the follow-up three months on.

Ideas come mostly from juniors in the tech modules they lead (fresh eyes on how Northwind
has always done it), a few from seniors in the management modules. Everything is a pure
function of the cohort's pairs and the programme, so two runs record the same ideas under
the same ids (``idea-`` + the CRC-32 of who recorded it where, in hex).
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from typing import Literal

from tandem.cohort.workspace import Cohort
from tandem.curriculum.manifest import Program
from tandem.notebook.checkin import FollowUp, Idea

#: A junior's ideas, recorded in a tech module: (title, process today, benefit, owner,
#: theme, then the facilitator's outcome and note; no outcome: still awaiting one).
JUNIOR_IDEAS = (
    (
        "Text customers their delivery window instead of phoning each one",
        "Customer Service phones every customer the day before a home delivery to confirm "
        "the window: about 40 calls a day, half of them unanswered.",
        "Customers confirm or rebook with one tap; the team gets two hours a day back.",
        "Customer Service team lead",
        "customers and service",
        "adopted",
        "Live for all home deliveries since week 6; missed deliveries down by a fifth.",
    ),
    (
        "Scan proofs of delivery into the order instead of filing the paper",
        "Drivers bring signed delivery notes back to the depot; admin files them by date.",
        "A disputed delivery is answered in minutes, not after a trip to the archive.",
        "Depot administration",
        "operations and logistics",
        "declined",
        "Not now: the handheld scanners arriving next year do this; revisit then.",
    ),
    (
        "Plan the month's social posts in one shared calendar",
        "Each depot posts when it remembers; marketing finds out afterwards.",
        "Regular, consistent posts, and no two depots announcing the same thing.",
        "Marketing",
        "communication and collaboration",
        "trialled",
        "Three depots planned a month ahead; marketing wants the rest to join.",
    ),
    (
        "One channel per key account instead of long email chains",
        "Requests from our largest customers arrive by email and are forwarded between "
        "sales, planning and the depots.",
        "Nothing is lost in a forward; whoever picks a request up says so in one place.",
        "Key account managers",
        "communication and collaboration",
        "adopted",
        "In use for the three largest accounts; fewer dropped requests reported.",
    ),
    (
        "A shared late-shipments dashboard instead of the Monday spreadsheet",
        "Operations copies late-shipment figures from three systems into a spreadsheet "
        "every Monday and emails it round.",
        "Everyone sees the same figures each morning; nobody spends Monday copying them.",
        "Operations planning",
        "tools, data and automation",
        "trialled",
        "A month's trial at the Leeds depot; planners like it, the data feed needs work.",
    ),
    (
        "Show late drops by postcode on a map on the depot screen",
        "Late drops are listed in a weekly table that few people read to the end.",
        "Planners see at a glance which areas keep running late, and ask why.",
        "Depot managers",
        "operations and logistics",
        "",
        "",
    ),
    (
        "Plan city routes with the live traffic data we already pay for",
        "Routes are planned the evening before from fixed drive times per postcode.",
        "Fewer miles and fewer late drops on the city routes.",
        "Transport planning",
        "operations and logistics",
        "adopted",
        "Used on the city routes since June: about 8% fewer miles in the first month.",
    ),
    (
        "A password manager for the shared depot accounts",
        "Shared logins for the carrier portals are written on the depot whiteboard.",
        "Nobody outside the team can read them, and a leaver's access ends the same day.",
        "IT security",
        "safety and security",
        "adopted",
        "Rolled out to every depot with IT; the whiteboard passwords are gone.",
    ),
    (
        "Check a new supplier against the sanctions list when the order is raised",
        "Procurement checks suppliers against the sanctions list by hand once a quarter.",
        "A problem is caught before the order is placed, not months after.",
        "Procurement",
        "safety and security",
        "adopted",
        "Built into the purchase-order form in August; Legal chose the list provider.",
    ),
    (
        "Let an assistant draft the first reply to routine returns emails",
        "The returns inbox gets 150 similar emails a day, each answered from scratch.",
        "Faster replies; the team spends its time on the unusual cases.",
        "Returns team",
        "tools, data and automation",
        "trialled",
        "Drafts only, checked by a person before sending; trial in the returns inbox.",
    ),
)
#: A senior's ideas, recorded in a management module (same fields).
SENIOR_IDEAS = (
    (
        "A ten-minute stand-up at shift change instead of the handover notebook",
        "The outgoing shift writes the handover in a notebook that the next shift skims.",
        "Problems are raised face to face, and the next shift can ask about them.",
        "Warehouse managers",
        "people and ways of working",
        "trialled",
        "Two warehouses tried it for six weeks; the night shift asked to keep it.",
    ),
    (
        "Walk a process with the newest starter every quarter",
        "Process reviews are done by the people who have run the process for years.",
        "Someone new asks why we do each step; we drop the steps nobody can explain.",
        "Operations director",
        "people and ways of working",
        "adopted",
        "Now part of every quarterly process review.",
    ),
    (
        "Publish the decisions of the weekly planning meeting",
        "Decisions are made in the planning meeting and passed on by word of mouth.",
        "Depots hear the same decision at the same time, with its reason.",
        "Head of planning",
        "communication and collaboration",
        "",
        "",
    ),
)
#: Examples for the follow-up, by what the person learned from their partner.
FOLLOWUP_EXAMPLES = {
    "tech": (
        "I built the depot's weekly chart myself instead of asking the analyst; it took "
        "twenty minutes and the team understood it straight away.",
        "I checked a suspicious invoice email the way my partner showed me and reported it "
        "instead of clicking the link.",
        "I set up a shared folder with version history for the tender and nobody emailed "
        "an attachment all month.",
        "I asked the assistant to summarise a 40-page contract before the meeting, then "
        "read the parts it flagged.",
    ),
    "management": (
        "When two drivers disagreed about a route I asked each for their reasons before "
        "suggesting anything, as we practised; they settled it themselves.",
        "I gave feedback to a colleague as situation, behaviour and impact; it was much "
        "easier than I expected.",
        "I wrote a one-page plan for the returns project with a clear owner for each step.",
        "I prepared my case for the budget meeting by starting with the question the "
        "director would ask, and it was approved.",
    ),
}
LEARNED = {"junior": "management", "senior": "tech"}


@dataclass
class IdeaPlan:
    """The ideas each person records in a module's check-in, and their outcomes."""

    ideas: dict[tuple[str, str], list[Idea]] = field(default_factory=dict)
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)


def idea_id(participant: str, module_id: str, number: int) -> str:
    """A reproducible id in the widget's form: ``idea-`` and 8 hex digits."""
    return f"idea-{zlib.crc32(f'{participant}:{module_id}:{number}'.encode()):08x}"


def idea_plan(cohort: Cohort, program: Program) -> IdeaPlan:
    """Who records which idea where: the junior of pair ``i`` in session ``s``'s tech
    module when ``(i + s) % 4 == 0`` (two ideas when ``i + s == 0``), the senior in its
    management module when ``(i + s) % 9 == 2``. The texts are taken in turn (round again
    past the end), so the first three go to pairs 1 and 3 of session 1 (adopted, declined;
    trialled) and a three-pair, one-session demo shows every outcome."""
    plan = IdeaPlan()
    taken = {"junior": 0, "senior": 0}
    for s, session in enumerate(program.sessions):
        for module in session.modules:
            role: Literal["junior", "senior"] = "junior" if module.track == "tech" else "senior"
            pool, every, at = (JUNIOR_IDEAS, 4, 0) if role == "junior" else (SENIOR_IDEAS, 9, 2)
            for i, pair in enumerate(cohort.pairs):
                if (i + s) % every != at:
                    continue
                participant = pair.member(role)
                ideas = []
                for number in range(2 if i + s == 0 else 1):
                    title, process, benefit, owner, theme, status, note = pool[
                        taken[role] % len(pool)
                    ]
                    taken[role] += 1
                    idea = Idea(
                        id=idea_id(participant, module.id, number),
                        title=title,
                        process=process,
                        benefit=benefit,
                        owner=owner,
                        theme=theme,
                    )
                    ideas.append(idea)
                    if status:
                        plan.outcomes[idea.id] = (status, note)
                plan.ideas[(participant, module.id)] = ideas
    return plan


def demo_followup(cohort: Cohort, participant: str, one_sided: bool) -> FollowUp:
    """A person's answers three months on: mostly that they still use what their partner
    taught them and see the partner use what they taught; in the ``one_sided`` pair (only
    the senior gained) the junior's management faded, and both say so."""
    rng = random.Random(zlib.crc32(f"{participant}:followup".encode()))
    role = cohort.participant(participant).role
    still, seen = rng.choice((3, 4, 4, 5, 5)), rng.choice((3, 4, 4, 5))
    if one_sided:
        still, seen = (rng.choice((1, 2)), 4) if role == "junior" else (4, 2)
    examples = FOLLOWUP_EXAMPLES[LEARNED[role]]
    blank = (one_sided and role == "junior") or rng.random() < 0.15
    return FollowUp(
        still_use=still, partner_uses=seen, example="" if blank else rng.choice(examples)
    )
