%% md
# {title}

*Track: {track}. Led by the {lead} partner; the {learner} partner is the learner.*

> **TODO (author):** every TODO is guidance: replace it with your content and delete the
> marker. Check with `tandem validate` and `pytest --nbval-lax` on this notebook.

TODO: one paragraph. Why this matters at work, what the pair will do, and what the data are
(small and synthetic: say so, and name the fictional organisation).
%% md
## Questions

- TODO: two to four questions this module answers, in the learner's words.
- TODO: for example, *which of these numbers can I trust?*
%% md
## Objectives

After this module the learner can:

- **Compute** TODO: something checkable, on the module's data.
- **Explain** TODO: a concept, to a colleague.
- **Choose** TODO: between options, with a stated reason.

Keep these in step with `objectives` in `curriculum/program.yml`.
%% md
## Timing

| Part | Minutes |
|---|---|
| Introduction and notes | 5 |
| Activity 1 | 15 |
| Activity 2 | 15 |
| Discussion and reflection | 10 |
| **Teaching total** | **{teaching}** |
| Checkpoint exercise (`{exercise}`) | {exercise_minutes} |
%% md
## Before you start

The learner rates themself on this module's competencies (1 = new to this, 5 = could teach
it). The same ratings come back at the end, so you can both see what moved.
%% code
from tandem.widgets import reflection, self_assessment, session_feedback

self_assessment({competencies}, moment="before")
%% md
## Notes for the lead

TODO: how to teach this to a colleague of another generation.

- **Start from their experience.** Ask how they handle this today; build on what they know.
- **Define every term** the first time you use it; avoid jargon, slang and acronyms.
- **Let them drive.** The learner types and runs the cells; the lead points.
- **Keep it two-way.** Ask for their judgement on the result: what would they trust, and
  what would they do next?
- TODO: what to avoid, and what the learner probably already knows.
%% md
## Activity 1: TODO a task from working life

TODO: the question the data answer. This example reads weekly service requests for two teams.
Before running each cell, say what you expect to see.
%% code
import pandas as pd

example = pd.read_csv("{data}")
example
%% md
**Your turn.** TODO: one step the learner does. Here: add the share of requests resolved.
%% code
example["resolved_share"] = example["resolved"] / example["requests"]
example.round(2)
%% md
## Activity 2: TODO a second, harder task

TODO: build on Activity 1. Here: compare the teams over all weeks, with the count behind
each figure.
%% code
by_team = example.groupby("team")[["requests", "resolved"]].sum()
by_team["resolved_share"] = by_team["resolved"] / by_team["requests"]
by_team.round(2)
%% md
## Discussion

The lead asks the first two; the learner asks the rest.

1. TODO: a question linking the activity to the learner's own work.
2. TODO: a question the numbers alone cannot settle.
3. TODO: a question the learner asks the lead.
%% md
## Reflection

Each partner answers the prompts for their role. Answers are private: they are saved to your
own Tandem store, not to this notebook. Tick *Share* to send one to your partner and
facilitator with your submission.
%% code
reflection(
    "{module}-next-step",
    "Learner: TODO what will you do differently at work in the next two weeks?",
)
%% code
reflection(
    "{module}-lead-next-time",
    "Lead: which explanation today would you give differently next time, and how?",
)
%% md
## Self-assessment

The learner rates the same competencies again, now that the module is done.
%% code
self_assessment({competencies}, moment="after")
%% md
## Session feedback

The learner tells the lead how the teaching landed. Be specific: this is how the lead learns.
%% code
session_feedback("{module}")
%% md
## Key points

- TODO: three to six points the learner should remember, one line each.
- TODO: each concrete enough to act on tomorrow.
