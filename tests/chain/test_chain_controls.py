"""Dev-chain controls behave the same on the managed anvil and the in-process memory chain."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pkr_pilot.accounts import dev_address
from pkr_pilot.chain import AnvilNode, AnvilOptions, Chain, connect
from pkr_pilot.config import NetworkConfig, Project
from pkr_pilot.errors import ChainError, UserInputError


@pytest.fixture(params=["local", "memory"])
def chain(request: pytest.FixtureRequest, project: Project) -> Iterator[Chain]:
    with connect(project, request.param) as handle:
        yield handle


def _pay(chain: Chain, value: int, to: int = 1) -> None:
    tx_hash = chain.w3.eth.send_transaction(
        {"from": dev_address(0), "to": dev_address(to), "value": value}  # type: ignore[typeddict-item]
    )
    if chain.network.no_mining:
        return
    # anvil's automine mines just after eth_sendTransaction returns: wait for the receipt.
    assert chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)["status"] == 1


def _balance(chain: Chain, index: int = 1) -> int:
    return int(chain.w3.eth.get_balance(dev_address(index)))  # type: ignore[arg-type]


def test_snapshot_undoes_transactions_and_blocks(chain: Chain) -> None:
    before, block = _balance(chain), chain.w3.eth.block_number
    with chain.snapshot():
        _pay(chain, 10**18)
        assert _balance(chain) == before + 10**18
        assert chain.w3.eth.block_number == block + 1
    assert _balance(chain) == before
    assert chain.w3.eth.block_number == block


def test_nested_snapshots_revert_to_their_own_point(chain: Chain) -> None:
    start = _balance(chain)
    with chain.snapshot():
        _pay(chain, 1)
        with chain.snapshot():
            _pay(chain, 2)
            assert _balance(chain) == start + 3
        assert _balance(chain) == start + 1
    assert _balance(chain) == start


def test_snapshot_reverts_even_when_the_block_raises(chain: Chain) -> None:
    start = _balance(chain)
    with pytest.raises(ZeroDivisionError), chain.snapshot():
        _pay(chain, 5)
        _ = 1 / 0
    assert _balance(chain) == start


def test_mine_adds_blocks(chain: Chain) -> None:
    block = chain.w3.eth.block_number
    chain.mine(3)
    assert chain.w3.eth.block_number == block + 3
    with pytest.raises(UserInputError):
        chain.mine(0)


def test_increase_time_mines_a_block_exactly_that_much_later(chain: Chain) -> None:
    start = chain.latest_timestamp()
    block = chain.w3.eth.block_number
    assert chain.increase_time(86_400) == start + 86_400
    assert chain.latest_timestamp() == start + 86_400
    assert chain.w3.eth.block_number == block + 1
    _pay(chain, 1)
    # Time goes on from there (anvil may put the next block in the same second).
    assert chain.latest_timestamp() >= start + 86_400


def test_set_next_timestamp_applies_to_the_next_transaction(chain: Chain) -> None:
    target = chain.latest_timestamp() + 1_000
    chain.set_next_timestamp(target)
    _pay(chain, 1)
    assert chain.latest_timestamp() == target


def test_time_cannot_go_backwards(chain: Chain) -> None:
    with pytest.raises(UserInputError, match="not after the latest block"):
        chain.set_next_timestamp(chain.latest_timestamp())
    with pytest.raises(UserInputError):
        chain.increase_time(0)


def test_snapshot_also_rewinds_time(chain: Chain) -> None:
    start = chain.latest_timestamp()
    with chain.snapshot():
        chain.increase_time(3_600)
    assert chain.latest_timestamp() == start


@pytest.mark.parametrize("network", ["local", "memory"])
def test_no_mining_keeps_transactions_pending_until_mine(project: Project, network: str) -> None:
    base = project.network(network)
    net = NetworkConfig(name=base.name, backend=base.backend, chain_id=base.chain_id, no_mining=True)
    with connect(project, net) as chain:
        _pay(chain, 9)
        assert chain.w3.eth.block_number == 0
        chain.mine()
        assert chain.w3.eth.block_number == 1
        assert _balance(chain) == 10_000 * 10**18 + 9


def test_anvil_state_saved_to_a_file_starts_an_identical_node(
    project: Project, anvil: Callable[..., AnvilNode], tmp_path: Path
) -> None:
    with connect(project, "local") as chain:
        _pay(chain, 4242, to=3)
        saved = chain.save_state(tmp_path / "experiment.json")
        balance = _balance(chain, 3)
    assert json.loads(saved.read_text())["block"]["number"] == "0x1"
    node = anvil(state_file=saved)
    assert int(node.rpc("eth_getBalance", [dev_address(3), "latest"]), 16) == balance
    assert int(node.rpc("eth_blockNumber"), 16) == 1


def test_anvil_dump_and_load_state_round_trip(project: Project) -> None:
    with connect(project, "local") as source:
        _pay(source, 777, to=4)
        dump = source.dump_state()
        balance = _balance(source, 4)
    with connect(project, "local") as target:
        assert _balance(target, 4) == 10_000 * 10**18
        target.load_state(dump)
        assert _balance(target, 4) == balance


def test_memory_backend_has_no_state_dump(project: Project) -> None:
    with connect(project, "memory") as chain, pytest.raises(ChainError, match="needs anvil"):
        chain.dump_state()


def test_controls_are_refused_on_a_chain_that_is_not_a_dev_chain(
    project: Project, anvil: Callable[..., AnvilNode]
) -> None:
    node = anvil(chain_id=5)
    net = NetworkConfig(name="goerli-like", backend="rpc", url=node.url, chain_id=5)
    with connect(project, net) as chain:
        assert not chain.is_dev
        for control in (chain.take_snapshot, chain.mine, chain.dump_state):
            with pytest.raises(ChainError, match="only work on a local dev chain; goerli-like has chain id 5"):
                control()
        with pytest.raises(ChainError, match="local dev chain"):
            chain.increase_time(10)


def test_controls_work_through_a_url_to_an_anvil_dev_node(
    project: Project, anvil: Callable[..., AnvilNode]
) -> None:
    node = anvil()
    with connect(project, node.url) as chain:
        assert chain.kind == "rpc"
        with chain.snapshot():
            _pay(chain, 1)
        assert chain.w3.eth.block_number == 0


def test_anvil_options_reach_the_managed_node(project: Project) -> None:
    node = AnvilNode.for_project(project, AnvilOptions(chain_id=1337, accounts=3))
    with node:
        assert int(node.rpc("eth_chainId"), 16) == 1337
        assert len(node.rpc("eth_accounts")) == 3


def test_reverting_a_snapshot_also_empties_anvils_transaction_pool(project: Project) -> None:
    from pkr_pilot.accounts import dev_account

    with connect(project, NetworkConfig(name="pool", backend="anvil", chain_id=31337)) as chain:
        signer = dev_account(0, chain_id=chain.chain_id)
        nonce = chain.w3.eth.get_transaction_count(signer.address)
        with chain.snapshot():
            stuck = {"to": signer.address, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10,
                     "maxPriorityFeePerGas": 1, "nonce": nonce + 2, "chainId": chain.chain_id}
            chain.w3.eth.send_raw_transaction(signer.sign_transaction(stuck).raw_transaction)
            assert int(chain.rpc("txpool_status")["queued"], 16) == 1
        assert chain.rpc("txpool_status") == {"pending": "0x0", "queued": "0x0"}
