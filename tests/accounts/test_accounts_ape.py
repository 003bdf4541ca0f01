"""``--account ape:ALIAS``: an Ape keyfile (written by Ape itself) unlocks like a toolkit keystore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from pkr_pilot.accounts import (
    PASSWORD_ENV,
    ape_accounts_folder,
    dev_address,
    load_account,
    parse_account_spec,
)
from pkr_pilot.errors import AccountError

KEY = "0x" + "5c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362319"
PASSWORD = "ape pass phrase"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def ape_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An APE_DATA_FOLDER holding the account ``treasury``, created by Ape's own import code."""
    folder = tmp_path_factory.mktemp("ape-data")
    script = (
        "from ape_accounts.accounts import import_account_from_private_key as imp\n"
        f"imp('treasury', {PASSWORD!r}, {KEY!r})\n"
    )
    env = {**os.environ, "APE_DATA_FOLDER": str(folder)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, timeout=120)
    assert (folder / "accounts" / "treasury.json").is_file()
    return folder


def test_ape_spec_parses_and_prints_back() -> None:
    spec = parse_account_spec("ape:treasury")
    assert (spec.kind, spec.name, str(spec)) == ("ape", "treasury", "ape:treasury")


def test_ape_folder_follows_ape_data_folder(tmp_path: Path) -> None:
    assert ape_accounts_folder({"APE_DATA_FOLDER": str(tmp_path)}) == tmp_path / "accounts"
    assert ape_accounts_folder({"HOME": "/nowhere"}).parts[-2:] == (".ape", "accounts")


def test_ape_keyfile_unlocks_with_the_password_variable_and_signs(ape_data: Path) -> None:
    env = {"APE_DATA_FOLDER": str(ape_data), PASSWORD_ENV: PASSWORD}
    signer = load_account(None, "ape:treasury", chain_id=2026, env=env)
    assert signer.name == "ape:treasury"
    assert signer.address == Account.from_key(KEY).address
    tx = {"to": dev_address(1), "value": 1, "nonce": 0, "gas": 21_000, "gasPrice": 10**9, "chainId": 2026}
    assert Account.recover_transaction(signer.sign_transaction(tx).raw_transaction) == signer.address
    assert KEY[2:] not in repr(signer) and PASSWORD not in repr(signer)


def test_ape_keyfile_asks_the_prompt_with_the_alias(ape_data: Path) -> None:
    asked: list[str] = []

    def prompt(name: str) -> str:
        asked.append(name)
        return PASSWORD

    signer = load_account(None, "ape:treasury", chain_id=2026, password=prompt, env={"APE_DATA_FOLDER": str(ape_data)})
    assert asked == ["treasury"] and signer.address == Account.from_key(KEY).address


def test_ape_wrong_password_and_missing_alias_are_account_errors(ape_data: Path) -> None:
    env = {"APE_DATA_FOLDER": str(ape_data)}
    with pytest.raises(AccountError, match="wrong password for keystore 'treasury'"):
        load_account(None, "ape:treasury", chain_id=2026, password="typo", env=env)  # noqa: S106
    with pytest.raises(AccountError, match="no Ape account named 'payroll'") as info:
        load_account(None, "ape:payroll", chain_id=2026, password=PASSWORD, env=env)
    assert "ape accounts list" in (info.value.hint or "")
    with pytest.raises(AccountError, match="needs a password"):
        load_account(None, "ape:treasury", chain_id=2026, env=env)
