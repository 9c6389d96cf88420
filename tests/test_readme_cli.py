"""The README's CLI reference and the commands, held together in both directions.

Every option the README shows for a command exists on it; every command and every option
appears in the README. RUN-OPTIONS stands for the options of its paragraph; options of the
paragraph on the curriculum (``--curriculum``) and the root's (``--version``) may be
written once, there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from tandem.cli.app import app, main

README = Path(__file__).resolve().parent.parent / "README.md"
OPTION = re.compile(r"--[a-z][a-z0-9-]*")


def _reference() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## CLI reference")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _paragraph(section: str, opening: str) -> str:
    start = section.index(opening)
    end = section.find("\n\n", start)
    return section[start : end if end != -1 else None]


def _commands() -> dict[tuple[str, ...], Any]:
    """Every command the ``tandem`` application runs, by its words: ``("cohort", "init")``."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found[path] = command

    walk(typer.main.get_command(app), ())
    return found


def _options(command: Any) -> set[str]:
    return {
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    } - {"--help"}


def _rows(section: str, commands: dict[tuple[str, ...], Any]) -> list[tuple[tuple[str, ...], str]]:
    """(command words, what the row shows) for each row of the reference table."""
    rows = []
    for line in section.splitlines():
        match = re.match(r"\| `tandem ([^`]*)`", line)
        if not match:
            continue
        shown = match[1].replace("\\|", "|")
        words: tuple[str, ...] = ()
        for word in shown.split():
            if (*words, word) in commands or any(
                path[: len(words) + 1] == (*words, word) for path in commands
            ):
                words = (*words, word)
            else:
                break
        rows.append((words, shown))
    return rows


def test_every_option_the_readme_shows_for_a_command_exists_on_it() -> None:
    section = _reference()
    commands = _commands()
    run_options = set(OPTION.findall(_paragraph(section, "RUN-OPTIONS:")))
    assert run_options, "the README has no RUN-OPTIONS paragraph"
    wrong = []
    for words, shown in _rows(section, commands):
        if words not in commands:
            wrong.append(f"`tandem {shown}`: no such command")
            continue
        options = set(OPTION.findall(shown))
        if "RUN-OPTIONS" in shown:
            options |= run_options
        wrong += [
            f"`tandem {' '.join(words)}` has no {name}"
            for name in sorted(options - _options(commands[words]))
        ]
    assert not wrong, "\n".join(wrong)


def test_every_command_and_option_is_in_the_readme() -> None:
    section = _reference()
    commands = _commands()
    run_options = set(OPTION.findall(_paragraph(section, "RUN-OPTIONS:")))
    shared = set(OPTION.findall(_paragraph(section, "Every command has `--help`")))
    documented: dict[tuple[str, ...], set[str]] = {}
    for words, shown in _rows(section, commands):
        options = set(OPTION.findall(shown))
        if "RUN-OPTIONS" in shown:
            options |= run_options
        documented.setdefault(words, set()).update(options)
    missing = [f"`tandem {' '.join(w)}`: no row" for w in commands if w not in documented]
    for words, command in commands.items():
        missing += [
            f"`tandem {' '.join(words)}`: {name} is not shown"
            for name in sorted(_options(command) - documented.get(words, set()) - shared)
        ]
    root = _options(typer.main.get_command(app))
    missing += [f"`tandem {name}` is not shown" for name in sorted(root - shared)]
    assert not missing, "\n".join(missing)


def test_grade_takes_the_cell_timeout_the_readme_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["grade", str(tmp_path / "nowhere"), "s1", "--cell-timeout", "5"])
    _, err = capsys.readouterr()
    assert "No such option" not in err
    assert ended.value.code == 1  # the missing cohort, not the option


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


def test_help_shows_boolean_options_as_plain_flags(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    shown = {words: _help(list(words), capsys) for words in _commands()}
    assert not [words for words, text in shown.items() if "<bool>" in text]
    assert re.search(r"--explain +Show each pair's score", shown[("match",)])


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_readme_tells_pairs_how_to_fetch_their_feedback() -> None:
    pairs = _section(README.read_text(encoding="utf-8"), "## For pairs")
    assert "*Fetch Feedback*" in pairs and "nbgrader fetch_feedback MODULE" in pairs


def test_the_curriculum_guide_names_the_assignments_tab_as_jupyterlab_shows_it() -> None:
    """nbgrader's menu item is *Assignment List*; the tab it opens is *Assignments*."""
    guide = (README.parent / "curriculum" / "README.md").read_text(encoding="utf-8")
    assert "*Assignments* tab" in guide
    named = re.findall(r".{0,30}\*Assignment List\*", " ".join(guide.split()))
    assert all("menu, *Assignment List*" in n for n in named), named
