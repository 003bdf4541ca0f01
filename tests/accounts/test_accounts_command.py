"""``pkr-pilot accounts new|import|list`` through click's CliRunner (prompts fed with input=)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eth_account import Account

from pkr_pilot.accounts import PASSWORD_ENV, unlock_keystore
from pkr_pilot.cli import cli, main
from pkr_pilot.errors import AccountError, UserInputError

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = Account.from_key("0x" + KEY).address
LIGHT = ["--scrypt-n", "1024"]


@pytest.fixture(autouse=True)
def _no_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


def _run(args: list[str], input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, input=input, env=env)


def test_new_asks_the_password_twice_and_prints_the_address(tmp_path: Path) -> None:
    result = _run(["accounts", "new", "ops", "--keystore-dir", str(tmp_path), *LIGHT], input="pw-1\npw-1\n")
    assert result.exit_code == 0, result.output
    assert "Password for ops" in result.output and "Repeat for confirmation" in result.output
    assert "pw-1" not in result.output  # hidden input
    address = unlock_keystore(tmp_path, "ops", "pw-1").address
    assert f"created ops: {address}" in result.output


def test_new_asks_again_when_the_two_passwords_differ(tmp_path: Path) -> None:
    # (CliRunner's hidden input returns "" at end of input instead of aborting: feed a good pair.)
    result = _run(
        ["accounts", "new", "ops", "--keystore-dir", str(tmp_path), *LIGHT], input="one\ntwo\ngood\ngood\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    unlock_keystore(tmp_path, "ops", "good")
    with pytest.raises(AccountError, match="wrong password"):
        unlock_keystore(tmp_path, "ops", "one")


def test_new_uses_the_password_environment_variable(tmp_path: Path) -> None:
    result = _run(
        ["accounts", "new", "bot", "--keystore-dir", str(tmp_path), *LIGHT], env={PASSWORD_ENV: "from-env"}
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    unlock_keystore(tmp_path, "bot", "from-env")


def test_new_refuses_an_existing_name_before_asking_for_a_password(tmp_path: Path) -> None:
    _run(["accounts", "new", "ops", "--keystore-dir", str(tmp_path), *LIGHT], input="pw\npw\n")
    result = _run(["accounts", "new", "ops", "--keystore-dir", str(tmp_path), *LIGHT], input="pw\npw\n")
    assert isinstance(result.exception, AccountError)
    assert "already exists" in str(result.exception)
    assert "Password" not in result.output


def test_import_reads_the_key_at_a_hidden_prompt(tmp_path: Path) -> None:
    result = _run(
        ["accounts", "import", "treasury", "--keystore-dir", str(tmp_path), *LIGHT], input=f"0x{KEY}\npw\npw\n"
    )
    assert result.exit_code == 0, result.output
    assert f"imported treasury: {ADDRESS}" in result.output
    assert KEY not in result.output
    assert unlock_keystore(tmp_path, "treasury", "pw").address == ADDRESS


def test_import_reads_the_key_from_stdin(tmp_path: Path) -> None:
    result = _run(
        ["accounts", "import", "ci", "--key-stdin", "--keystore-dir", str(tmp_path), *LIGHT],
        input=f"{KEY}\n",
        env={PASSWORD_ENV: "pw"},
    )
    assert result.exit_code == 0, result.output
    assert KEY not in result.output
    assert unlock_keystore(tmp_path, "ci", "pw").address == ADDRESS


def test_import_refuses_a_key_on_the_command_line_without_echoing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["accounts", "import", "ops", "0x" + KEY, "--keystore-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == UserInputError.exit_code == 2
    assert "never read from the command line" in captured.err
    assert KEY not in captured.out + captured.err
    assert not (tmp_path / "ops.json").exists()


def test_import_refuses_a_key_given_as_an_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["accounts", "import", "ops", f"--private-key={KEY}", "--keystore-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert KEY not in captured.out + captured.err


def test_import_refuses_a_key_given_as_the_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["accounts", "import", KEY, "--keystore-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2 and "looks like a private key" in captured.err
    assert KEY not in captured.out + captured.err


def test_import_of_a_bad_key_says_so_without_echoing_it(tmp_path: Path) -> None:
    result = _run(["accounts", "import", "ops", "--keystore-dir", str(tmp_path), *LIGHT], input="0xdeadbeef\npw\npw\n")
    assert isinstance(result.exception, UserInputError)
    assert "not a private key" in str(result.exception)
    assert "deadbeef" not in result.output + str(result.exception)


def test_list_shows_names_and_addresses_only(tmp_path: Path) -> None:
    _run(["accounts", "import", "treasury", "--keystore-dir", str(tmp_path), *LIGHT], input=f"{KEY}\npw\npw\n")
    result = _run(["accounts", "list", "--keystore-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.split() == ["treasury", ADDRESS]
    as_json = json.loads(_run(["accounts", "list", "--json", "--keystore-dir", str(tmp_path)]).output)
    assert as_json[0]["name"] == "treasury" and as_json[0]["address"] == ADDRESS


def test_list_of_an_empty_folder_says_how_to_start(tmp_path: Path) -> None:
    result = _run(["accounts", "list", "--keystore-dir", str(tmp_path / "none")])
    assert result.exit_code == 0 and "accounts new NAME" in result.output


def test_dev_names_are_not_keystore_names(tmp_path: Path) -> None:
    result = _run(["accounts", "new", "dev:1", "--keystore-dir", str(tmp_path), *LIGHT], input="pw\npw\n")
    assert isinstance(result.exception, UserInputError)
