"""pkr_pilot.ape_bridge: what Ape's --network and --account mean for the toolkit (Ape objects faked)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pkr_pilot.accounts import dev_address
from pkr_pilot.ape_bridge import account_spec, network_for, provider_url, run_script
from pkr_pilot.config import load_project
from pkr_pilot.errors import UserInputError

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Provider:
    name: str = "foundry"
    http_uri: str | None = None
    uri: str | None = None


class KeyfileAccount:
    def __init__(self, alias: str) -> None:
        self.alias = alias


@dataclass
class FakeTestAccount:
    index: int
    address: str


def test_provider_url_prefers_the_http_uri_and_refuses_a_provider_without_one() -> None:
    assert provider_url(Provider(http_uri="http://127.0.0.1:9", uri="ws://127.0.0.1:9")) == "http://127.0.0.1:9"
    assert provider_url(Provider(uri="https://rpc.example")) == "https://rpc.example"
    with pytest.raises(UserInputError, match="has no HTTP JSON-RPC URL"):
        provider_url(Provider(name="test", uri="ws://x"))


def test_network_is_the_configured_one_with_that_url_else_the_url() -> None:
    project = load_project(ROOT)
    assert network_for(project, Provider(http_uri="http://127.0.0.1:8545/")) == "localhost"
    assert network_for(project, Provider(http_uri="http://127.0.0.1:18545")) == "http://127.0.0.1:18545"


def test_ape_accounts_map_to_toolkit_specs() -> None:
    assert account_spec(KeyfileAccount("treasury")) == "ape:treasury"
    assert account_spec(FakeTestAccount(3, dev_address(3))) == "dev:3"
    with pytest.raises(UserInputError, match="cannot sign as Ape account"):
        account_spec(FakeTestAccount(3, dev_address(4)))  # another mnemonic: not the toolkit's dev:3


def test_run_script_exits_with_the_status_and_prints_user_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run_script(lambda: 0)
    assert done.value.code == 0

    def refused() -> int:
        raise UserInputError("bad amount", hint="use PKRP")

    with pytest.raises(SystemExit) as failed:
        run_script(refused)
    assert failed.value.code == UserInputError.exit_code
    assert capsys.readouterr().err == "error: bad amount (use PKRP)\n"
