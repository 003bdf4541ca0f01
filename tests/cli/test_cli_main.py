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


def _leaves(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group)
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += _leaves(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


def _leaf_params(args: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the top-level group and the command reached by ``args`` parse (no callback runs)."""
    ctx = cli_module.cli.make_context("pkr-pilot", list(args), resilient_parsing=True)
    top = dict(ctx.params)
    command: click.Command = cli_module.cli
    rest = [*ctx.protected_args, *ctx.args]
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=True)
        command, rest = sub, [*getattr(ctx, "protected_args", []), *ctx.args]
    return top, dict(ctx.params)


GLOBALS = {"--network": ["--network", "elsewhere"], "--json": ["--json"], "--yes": ["--yes"], "-y": ["-y"]}


@pytest.mark.parametrize(("path", "command"), _leaves(cli_module.cli), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_global_options_mean_the_same_before_and_after_the_command_name(path: tuple[str, ...], command: click.Command) -> None:
    accepted = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    options = [GLOBALS[name] for name in GLOBALS if name in accepted]
    if not options:
        pytest.skip(f"{' '.join(path)} takes none of the global options")
    written = [token for option in options for token in option] + ["--debug"]
    before = _leaf_params(cli_module.normalise_args([*written, *path]))
    after = _leaf_params(cli_module.normalise_args([*path, *written]))
    assert before == after
    top, leaf = after
    assert top["debug"] is True
    by_option = {opt: param.name for param in command.params for opt in param.opts}
    if "--network" in accepted:
        assert leaf[by_option["--network"]] == "elsewhere"
    for flag in ("--json", "--yes", "-y"):
        if flag in by_option:
            assert leaf[by_option[flag]] is True


def test_readme_exit_code_table_has_every_code_the_cli_uses() -> None:
    import re
    from pathlib import Path

    from pkr_pilot import errors
    from pkr_pilot.cli.disburse_cmd import INCOMPLETE_EXIT

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    used = {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.PilotError)}
    used |= {0, 1, INCOMPLETE_EXIT, 130, 128 + 15}  # success, a failed check, disburse incomplete, Ctrl-C, bench SIGTERM
    assert used <= documented, f"README exit codes lack {sorted(used - documented)}"


def test_every_action_of_the_table_has_its_command_with_the_same_arguments() -> None:
    """The commands are rows over :data:`pkr_pilot.ops.ACTIONS`: each action has one, whose own
    parameters are the action's arguments (the common options and ``--ref`` aside)."""
    from pkr_pilot.cli import actions_cmd
    from pkr_pilot.ops import ACTIONS

    assert set(actions_cmd.ACTION_COMMANDS) == set(ACTIONS)
    common = {"network_name", "account_spec", "yes", "dry_run", "as_json", "idempotency_key", "replace", "ref"}
    for action, command in actions_cmd.ACTION_COMMANDS.items():
        own = {p.name for p in command.params} - common
        assert own == {p.name for p in ACTIONS[action].params}, action
        assert ("ref" in {p.name for p in command.params}) == ACTIONS[action].ref, action
    for name, (target, _help) in cli_module.COMMANDS.items():  # every row is reachable from the top level
        assert cli_module.cli.get_command(click.Context(cli_module.cli), name) is not None, target


def test_perform_refuses_an_unknown_action_or_argument() -> None:
    from pkr_pilot.errors import UserInputError
    from pkr_pilot.ops import perform

    with pytest.raises(UserInputError, match="unknown action 'mintt'"):
        perform(None, "mintt")  # type: ignore[arg-type]
    with pytest.raises(UserInputError, match="freeze takes no argument amount"):
        perform(None, "freeze", account="0x" + "11" * 20, amount="1", ref="CASE-1")  # type: ignore[arg-type]
