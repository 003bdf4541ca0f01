"""Keystores: Web3 Secret Storage round trip, passwords, file safety, dev keys kept out."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account

from pkr_pilot.accounts import (
    DEV_MNEMONIC,
    PASSWORD_ENV,
    create_keystore,
    dev_address,
    list_keystores,
    load_account,
    unlock_keystore,
)
from pkr_pilot.errors import AccountError, DevKeyRefused, UserInputError

LIGHT_N = 2**10  # tests only; real keystores use DEFAULT_SCRYPT_N
KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_keystore_round_trip(tmp_path: Path) -> None:
    created = create_keystore(tmp_path, "operator", "s3cret", scrypt_n=LIGHT_N)
    assert created.path == tmp_path / "operator.json"
    data = json.loads(created.path.read_text())
    assert data["version"] == 3
    assert data["crypto"]["kdf"] == "scrypt" and data["crypto"]["kdfparams"]["n"] == LIGHT_N
    signer = unlock_keystore(tmp_path, "operator", "s3cret", chain_id=2026)
    assert signer.address == created.address
    assert signer.name == "keystore:operator" and not signer.is_dev
    tx = {"to": dev_address(1), "value": 1, "nonce": 0, "gas": 21_000, "gasPrice": 10**9, "chainId": 2026}
    assert Account.recover_transaction(signer.sign_transaction(tx).raw_transaction) == created.address


def test_keystore_file_is_private_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    folder = tmp_path / "keystores"
    created = create_keystore(folder, "ops", "pw", scrypt_n=LIGHT_N)
    assert stat.S_IMODE(created.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir()] == ["ops.json"]


def test_the_password_is_not_stored_in_the_file(tmp_path: Path) -> None:
    created = create_keystore(tmp_path, "ops", "correct horse battery", private_key=KEY, scrypt_n=LIGHT_N)
    text = created.path.read_text()
    assert "correct horse battery" not in text
    assert KEY[2:] not in text


def test_wrong_password_is_an_account_error_naming_the_keystore(tmp_path: Path) -> None:
    create_keystore(tmp_path, "treasury", "right", scrypt_n=LIGHT_N)
    with pytest.raises(AccountError) as info:
        unlock_keystore(tmp_path, "treasury", "hunter2-typo")
    message = str(info.value)
    assert message.startswith("wrong password for keystore 'treasury'")
    assert PASSWORD_ENV in message and "\n" not in message
    assert "hunter2" not in message  # the password is not echoed


def test_an_existing_keystore_is_never_overwritten(tmp_path: Path) -> None:
    first = create_keystore(tmp_path, "ops", "pw", scrypt_n=LIGHT_N)
    before = first.path.read_bytes()
    with pytest.raises(AccountError, match="already exists"):
        create_keystore(tmp_path, "ops", "pw", private_key=KEY, scrypt_n=LIGHT_N)
    assert first.path.read_bytes() == before


def test_import_keeps_the_given_key(tmp_path: Path) -> None:
    created = create_keystore(tmp_path, "imported", "pw", private_key=KEY, scrypt_n=LIGHT_N)
    assert created.address == Account.from_key(KEY).address
    assert unlock_keystore(tmp_path, "imported", "pw").address == created.address


@pytest.mark.parametrize("bad", ["", "0x1234", "zz" * 32, "0x" + "00" * 32, "ff" * 32, "0x" + "11" * 33])
def test_a_bad_private_key_is_refused_without_echoing_it(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UserInputError) as info:
        create_keystore(tmp_path, "bad", "pw", private_key=bad, scrypt_n=LIGHT_N)
    assert str(info.value).startswith("not a private key")
    if bad:
        assert bad.removeprefix("0x") not in str(info.value)
    assert not (tmp_path / "bad.json").exists()


def test_a_public_dev_key_cannot_be_imported(tmp_path: Path) -> None:
    Account.enable_unaudited_hdwallet_features()
    dev3 = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/3")
    with pytest.raises(AccountError, match="public anvil test key dev:3"):
        create_keystore(tmp_path, "sneaky", "pw", private_key=dev3.key, scrypt_n=LIGHT_N)


def test_a_keystore_holding_a_dev_key_is_refused_on_a_non_dev_chain(tmp_path: Path) -> None:
    Account.enable_unaudited_hdwallet_features()
    dev0 = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/0")
    keyfile = Account.encrypt(dev0.key, "pw", kdf="scrypt", iterations=LIGHT_N)
    (tmp_path / "written-by-hand.json").write_text(json.dumps(keyfile))
    with pytest.raises(DevKeyRefused, match="holds dev:0"):
        unlock_keystore(tmp_path, "written-by-hand", "pw", chain_id=1)
    assert unlock_keystore(tmp_path, "written-by-hand", "pw", chain_id=31337).address == dev0.address


def test_password_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    create_keystore(tmp_path, "ci", "from-env", scrypt_n=LIGHT_N)
    signer = unlock_keystore(tmp_path, "ci", env={PASSWORD_ENV: "from-env"})
    assert signer.name == "keystore:ci"
    with pytest.raises(AccountError, match=rf"keystore 'ci' needs a password.*{PASSWORD_ENV}"):
        unlock_keystore(tmp_path, "ci", env={})


def test_a_password_callable_is_asked_only_for_keystores_with_their_name(tmp_path: Path) -> None:
    create_keystore(tmp_path, "ops", "pw", scrypt_n=LIGHT_N)
    asked: list[str] = []

    def prompt(name: str) -> str:
        asked.append(name)
        return "pw"

    load_account(None, "dev:0", chain_id=31337, password=prompt, keystore_dir=tmp_path)
    assert asked == []
    load_account(None, "keystore:ops", chain_id=2026, password=prompt, keystore_dir=tmp_path)
    load_account(None, "ops", chain_id=2026, password=prompt, keystore_dir=tmp_path)
    assert asked == ["ops", "ops"]


def test_a_missing_keystore_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match=r"no keystore named 'ghost'.*accounts new"):
        unlock_keystore(tmp_path, "ghost", "pw")


def test_a_malformed_keystore_is_an_account_error(tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text('{"address": "00", "version": 3}')
    with pytest.raises(AccountError, match="not a Web3 Secret Storage file"):
        unlock_keystore(tmp_path, "junk", "pw")
    (tmp_path / "truncated.json").write_text('{"crypto": ')
    with pytest.raises(AccountError, match="unreadable"):
        unlock_keystore(tmp_path, "truncated", "pw")


def test_list_shows_names_and_checksummed_addresses_and_flags_unreadable_files(tmp_path: Path) -> None:
    b = create_keystore(tmp_path, "b-ops", "pw", scrypt_n=LIGHT_N)
    a = create_keystore(tmp_path, "a-treasury", "pw", private_key=KEY, scrypt_n=LIGHT_N)
    (tmp_path / "c-broken.json").write_text("not json")
    entries = list_keystores(tmp_path)
    assert [(e.name, e.address) for e in entries[:2]] == [("a-treasury", a.address), ("b-ops", b.address)]
    assert a.address == Account.from_key(KEY).address  # checksummed
    assert entries[2].name == "c-broken" and entries[2].address is None and entries[2].problem
    assert list_keystores(tmp_path / "none") == []


def test_empty_password_and_bad_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="empty password"):
        create_keystore(tmp_path, "ops", "", scrypt_n=LIGHT_N)
    with pytest.raises(UserInputError, match="bad keystore name"):
        create_keystore(tmp_path, "../escape", "pw", scrypt_n=LIGHT_N)
    with pytest.raises(UserInputError, match="power of two"):
        create_keystore(tmp_path, "ops", "pw", scrypt_n=1000)
