%% md intro
# Checkpoint: {title}

> **TODO (author):** replace this example with 3-5 autograded tasks on the module's
> competencies and one written answer, set in a realistic working scenario, then delete this
> note (see `docs/authoring-modules.md`).

TODO: the scenario in two or three sentences. `example.csv` holds weekly service requests,
and how many were resolved, for two teams.

Complete the function below: replace `raise NotImplementedError()` with your code, then run
the test cell underneath. Passing the visible tests is a good sign; hidden tests check edge
cases such as zero requests and missing values. Task 2 is a short written answer.

Allow about {exercise_minutes} minutes. Your partner may help with Python syntax; the
decisions are yours.
%% code setup
import math

import pandas as pd

example = pd.read_csv("example.csv")
example
%% md task1_instructions
## Task 1: Resolution rate (3 points)

Write `resolution_rate(resolved, requests)`. It returns resolved / requests as a `float`.

Return `float("nan")` when the rate cannot be calculated: `requests` is 0, or either input
is missing (`None` or `NaN`). Hint: `pd.isna(x)` is `True` for both.
%% code resolution_rate solution
def resolution_rate(resolved, requests):
    """Return resolved / requests, or NaN if undefined."""
    ### BEGIN SOLUTION
    if pd.isna(resolved) or pd.isna(requests) or requests <= 0:
        return float("nan")
    return float(resolved / requests)
    ### END SOLUTION
%% code test_resolution_rate points=3
assert math.isclose(resolution_rate(18, 20), 0.9)
assert isinstance(resolution_rate(27, 30), float)
### BEGIN HIDDEN TESTS
assert resolution_rate(0, 25) == 0.0
assert math.isnan(resolution_rate(0, 0))
assert math.isnan(resolution_rate(None, 16))
assert math.isnan(resolution_rate(5, float("nan")))
rates = example.apply(lambda r: resolution_rate(r["resolved"], r["requests"]), axis=1)
assert rates.notna().sum() == 4
### END HIDDEN TESTS
%% md task2_question
## Task 2: Before acting on a number (2 points, marked by your facilitator)

TODO: replace with a question that asks for a judgement at work, in 80 to 150 words.

Team West resolved 15 of 18 requests in week 3, against Team East's 27 of 30. The operations
lead proposes sending all of West's requests to East from next month. In 80 to 150 words:
what would you check before agreeing, and why? You may use the data.

**Rubric** (1 point for each element, up to 2):

1. **Enough evidence.** Notes that week 3 is West's only comparable week (week 1 had no
   requests, week 2's resolved count is missing) and that 18 requests are too few to act on.
2. **What lies behind the rate.** Asks what kind of requests each team gets, or about
   staffing, before moving work, or proposes comparing more weeks first.

No points: accepts the comparison at face value, only restates the numbers, or is blank.
%% md written_answer solution points=2
West's 83% against East's 90% rests on one comparable week: in week 1 West had no requests,
and in week 2 its resolved count is missing. With 18 requests, one more resolved would move
the rate by more than five points. Before moving any work I would ask whether the two teams
get the same kind of requests and how many people West had that week, and compare the rates
over at least six more weeks.
