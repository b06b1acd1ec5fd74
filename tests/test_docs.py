"""The documentation keeps up with the code: every setting and every command is described."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from palabre import config
from palabre.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
COMMANDS = ROOT / "docs" / "commands.md"


def sections(path: Path, level: str) -> dict[str, str]:
    """Markdown sections of one heading level, by title (backquotes removed)."""
    found: dict[str, str] = {}
    title = None
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"(#+) (.*)", line)
        if heading and len(heading.group(1)) <= len(level):
            title = heading.group(2).strip().strip("`") if heading.group(1) == level else None
            if title is not None:
                found[title] = ""
            continue
        if title is not None:
            found[title] += line + "\n"
    return found


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(config.SETTINGS))
def test_every_setting_is_documented_with_its_default(name):
    documented = sections(CONFIGURATION, "###")
    assert name in documented, f"docs/configuration.md has no '### `{name}`' section"
    section = documented[name]
    default = config.SETTINGS[name].default
    assert section.strip(), f"the section of {name} is empty"
    if default:
        assert f"`{default}`" in section, f"docs/configuration.md does not give {name}'s default `{default}`"


def test_every_environment_variable_read_by_the_code_is_documented():
    text = CONFIGURATION.read_text(encoding="utf-8")
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "palabre").rglob("*.py"))
    variables = set(re.findall(r"\bPALABRE_[A-Z0-9_]*[A-Z0-9]\b", source))
    missing = sorted(v for v in variables if f"`{v}`" not in text)
    assert missing == [], f"not in docs/configuration.md: {missing}"


def test_the_documentation_describes_no_setting_that_does_not_exist():
    documented = {t for t in sections(CONFIGURATION, "###") if t.startswith("PALABRE_")}
    assert documented <= set(config.SETTINGS)


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_command_is_documented_with_its_options(name):
    documented = sections(COMMANDS, "##")
    assert f"palabre {name}" in documented, f"docs/commands.md has no '## palabre {name}' section"
    section = documented[f"palabre {name}"]
    assert "```sh" in section, f"the section of palabre {name} has no example"
    options = [
        option
        for action in subcommands()[name]._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and action.help != argparse.SUPPRESS
    ]
    missing = [option for option in options if option not in section]
    assert missing == [], f"palabre {name}: options not described in docs/commands.md: {missing}"


def test_the_documentation_describes_no_command_that_does_not_exist():
    documented = {t.removeprefix("palabre ") for t in sections(COMMANDS, "##") if t.startswith("palabre ")}
    assert documented == set(subcommands())


def unclosed_fences(text: str) -> list[str]:
    """Where a ``` code block swallows a heading, or is still open at the end of the file."""
    problems = []
    opened_at = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r" {0,3}```", line):
            opened_at = 0 if opened_at else number
        elif opened_at and re.match(r"#{2,6} \S", line):
            problems.append(f"line {number}: heading inside the code block opened at line {opened_at}")
    if opened_at:
        problems.append(f"the code block opened at line {opened_at} is never closed")
    return problems


def test_the_fence_check_finds_a_block_left_open():
    assert unclosed_fences("## a\n\n```sh\nls\n```\n") == []
    assert unclosed_fences("```sh\nls\n## b\n\n```\ncat\n```\n") == [
        "line 3: heading inside the code block opened at line 1",
        "the code block opened at line 7 is never closed",
    ]


@pytest.mark.parametrize(
    "path", sorted([*(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]), ids=lambda p: p.name
)
def test_every_code_block_of_the_documentation_is_closed(path):
    assert unclosed_fences(path.read_text(encoding="utf-8")) == [], path
