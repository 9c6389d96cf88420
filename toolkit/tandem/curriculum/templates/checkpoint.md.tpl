%% md intro
# Checkpoint: {title}

> **TODO (author):** replace these examples with 3-5 questions on the module's
> competencies (choose, type a number, put in order, sort, match) and one written answer,
> set in a realistic working scenario, then delete this note (see
> `docs/authoring-modules.md`, *Question kinds*).

TODO: the scenario in two or three sentences. The table below (`example.csv`) holds weekly
service requests, and how many were resolved, for two teams.

Answer each question by clicking or typing in the controls under it: your answers are saved
as you go and sent with your submission. No code is needed. Task 4 is a short written
answer.

Allow about {exercise_minutes} minutes. The decisions are yours; your partner may help you
read the table.
%% code setup
import pandas as pd

from tandem.questions import answered, check, choice, number, order

example = pd.read_csv("example.csv")
example
%% md task1_instructions
## Task 1: Reading the table (2 points)
%% code week2_west solution
### BEGIN SOLUTION
answer = "The number of resolved requests is missing"
### END SOLUTION
choice(
    "week2_west",
    "Why can we not calculate Team West's resolution rate for week 2?",
    [
        "West had no requests that week",
        "The number of resolved requests is missing",
        "West resolved more requests than it received",
    ],
    answer=answer,
)
%% code test_week2_west points=2 objectives=read-the-data
answered("week2_west")
### BEGIN HIDDEN TESTS
check("week2_west", "The number of resolved requests is missing")
### END HIDDEN TESTS
%% md task2_instructions
## Task 2: A resolution rate (2 points)

The resolution rate is resolved requests divided by requests, as a percentage.
%% code east_week3 solution
### BEGIN SOLUTION
answer = 90
### END SOLUTION
number("east_week3", "What was Team East's resolution rate in week 3, in percent?", answer=answer)
%% code test_east_week3 points=2 objectives=read-the-data
answered("east_week3")
### BEGIN HIDDEN TESTS
check("east_week3", 90, tolerance=0.5)
### END HIDDEN TESTS
%% md task3_instructions
## Task 3: Before changing how work is shared (1 point)
%% code steps solution
### BEGIN SOLUTION
answer = [
    "Compare more weeks of data",
    "Decide whether to move work",
    "Tell both teams about the decision",
]
### END SOLUTION
order(
    "steps",
    "Put these steps in the order you would take them, first step first.",
    [
        "Tell both teams about the decision",
        "Compare more weeks of data",
        "Decide whether to move work",
    ],
    answer=answer,
)
%% code test_steps points=1 objectives=judge-the-data
answered("steps")
### BEGIN HIDDEN TESTS
check(
    "steps",
    [
        "Compare more weeks of data",
        "Decide whether to move work",
        "Tell both teams about the decision",
    ],
)
### END HIDDEN TESTS
%% md task4_question
## Task 4: Before acting on a number (2 points, marked by your facilitator)

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
%% md written_answer solution points=2 objectives=judge-the-data
West's 83% against East's 90% rests on one comparable week: in week 1 West had no requests,
and in week 2 its resolved count is missing. With 18 requests, one more resolved would move
the rate by more than five points. Before moving any work I would ask whether the two teams
get the same kind of requests and how many people West had that week, and compare the rates
over at least six more weeks.
