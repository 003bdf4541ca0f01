"""The console entry point: every way a command can end becomes one line and the right exit code."""

from __future__ import annotations

from typing import Any

import click
import pytest

from pkr_pilot import cli as cli_module
from pkr_pilot.errors import ConfigError


def run_with(monkeypatch: pytest.MonkeyPatch, raised: BaseException | None, argv: list[str], *, rv: Any = None) -> int:
    def fake_main(*_args: Any, **_kwargs: Any) -> Any:
        if raised is not None:
            raise raised
        return rv

    monkeypatch.setattr(cli_module.cli, "main", fake_main)
    return cli_module.main(argv)


def test_pilot_error_prints_one_line_and_its_exit_code(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_with(monkeypatch, ConfigError("no pkr-pilot.toml here", hint="run inside the checkout"), ["deploy"])
    assert code == ConfigError.exit_code == 2
    assert capsys.readouterr().err == "error: no pkr-pilot.toml here (run inside the checkout)\n"


def test_debug_shows_the_traceback_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError):
        run_with(monkeypatch, ConfigError("boom"), ["--debug", "deploy"])


@pytest.mark.parametrize(
    ("raised", "code", "stderr"),
    [
        (click.exceptions.Abort(), 130, "aborted\n"),
        (KeyboardInterrupt(), 130, "interrupted\n"),
        (click.UsageError("No such command 'x'."), 2, "Error: No such command 'x'.\n"),
        (click.exceptions.Exit(3), 3, ""),
    ],
    ids=["abort", "ctrl-c", "usage", "exit"],
)
def test_click_endings_map_to_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         raised: BaseException, code: int, stderr: str) -> None:
    assert run_with(monkeypatch, raised, ["x"]) == code
    assert capsys.readouterr().err == stderr


def test_a_command_result_code_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_with(monkeypatch, None, ["bench"], rv=4) == 4
    assert run_with(monkeypatch, None, ["bench"], rv="not a code") == 0


def test_help_lists_every_command_without_importing_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_module.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, (_target, help_text) in cli_module.COMMANDS.items():
        assert name in out
        assert help_text.split()[0] in out


def test_lazy_group_refuses_a_table_entry_that_is_not_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    group = cli_module.LazyGroup(name="g", lazy={"bad": ("pkr_pilot.cli:COMMANDS", "not a command")})
    with pytest.raises(TypeError, match="is not a click command"):
        group.get_command(click.Context(group), "bad")
    assert "bad" in group.list_commands(click.Context(group))
    assert group.get_command(click.Context(group), "missing") is None
