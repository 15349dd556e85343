"""The CLI keeps one set of conventions: every command and option explains itself, usage errors
exit 1 (never the drift code 2), and ``--help`` lists the commands in sections."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

from hubaudit.cli import main
from hubaudit.cli.app import COMMANDS, SECTIONS, root


def walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name} but cannot load it"
            yield from walk(sub, (*path, name))


def every_command() -> list[tuple[str, click.Command]]:
    return list(walk(root, ("hubaudit",)))


def test_every_command_and_option_has_help_text() -> None:
    missing = []
    for name, command in every_command():
        if not (command.help or command.short_help):
            missing.append(f"{name}: no help")
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and not param.help:
                missing.append(f"{name} {param.opts[0]}: no help")
    assert missing == []


def test_every_registered_command_loads_and_sections_name_each_once() -> None:
    names = [name for _, entries in SECTIONS for name, _ in entries]
    assert len(names) == len(set(names)) == len(COMMANDS)
    ctx = click.Context(root)
    for name in names:
        assert root.get_command(ctx, name) is not None, name


def test_help_lists_the_commands_in_sections(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    positions = [text.index(f"{section}:") for section, entries in SECTIONS if entries]
    assert positions == sorted(positions)
    for name in COMMANDS:
        assert f"  {name} " in text


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--portl", "x"],
        ["db", "chek"],
        ["no-such-command"],
        ["db", "prune", "--dry-rn"],
    ],
)
def test_a_usage_error_exits_1_not_the_drift_code(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv, out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.strip(), "a usage error says what is wrong"
    assert "Traceback" not in err


def test_version_prints_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("hubaudit ")


BIG_OUTPUT = """
import sys
import click
from hubaudit.cli import app
from hubaudit.cli.common import Session, pass_session

@click.command()
@pass_session
def big(session: Session) -> int:
    \"\"\"Many lines.\"\"\"
    for n in range(200_000):
        session.echo(f"line {n}")
    return 0

app.COMMANDS["big"] = "__main__:big"
sys.exit(app.main(["big"]))
"""


def test_a_closed_pipe_ends_quietly() -> None:
    """``hubaudit … | head -1`` on output far larger than a pipe holds: no traceback."""
    reader = subprocess.run(
        f"{sys.executable} -c '{BIG_OUTPUT}' | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert reader.stdout == "line 0\n"
    assert reader.stderr == ""
