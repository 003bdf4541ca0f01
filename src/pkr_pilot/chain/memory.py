"""The in-process chain: eth-tester on py-evm, set up to look like anvil.

* the Cancun VM (the same EVM version as ``anvil --hardfork cancun`` and solc's ``evmVersion``);
* chain id 1337 (or the network's), reported by ``eth_chainId`` and checked on raw
  transactions like anvil does (eth-tester's own default is 131277322940537, and py-evm
  alone accepts a transaction signed for any chain id);
* the same dev accounts as anvil: keys ``m/44'/60'/0'/0/N`` of the public test mnemonic,
  funded with 10,000 ETH each in genesis, unlocked for ``eth_sendTransaction``;
* a 30,000,000 gas block limit (a 24 KB contract deploys), base fee 1 gwei like anvil;
* automine: every transaction is mined in its own block at once (``auto_mine=False``
  keeps them pending until :meth:`Chain.mine`), dated by the wall clock when it is sent
  (or by :meth:`Chain.set_next_timestamp`), like anvil.

Importing this module loads web3, eth-tester and py-evm (about 0.8 s): only
:func:`pkr_pilot.chain.connect` does, and only for a ``memory`` network.
"""

from __future__ import annotations

import time
from typing import Any, cast

from eth.chains.base import MiningChain
from eth.consensus.applier import ConsensusApplier
from eth.consensus.noproof import NoProofConsensus
from eth.db import get_db_backend
from eth.vm.forks.cancun import CancunVM
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import (
    generate_genesis_state_for_keys,
    get_account_keys_from_mnemonic,
    get_default_genesis_params,
)
from eth_utils.exceptions import ValidationError
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.eth_tester.defaults import API_ENDPOINTS, static_return

from ..accounts import DEV_ACCOUNT_COUNT, DEV_BALANCE_WEI, DEV_DERIVATION_PATH, DEV_MNEMONIC

__all__ = ["BLOCK_GAS_LIMIT", "MEMORY_CHAIN_ID", "DevPyEVMBackend", "memory_web3"]

MEMORY_CHAIN_ID = 1337
BLOCK_GAS_LIMIT = 30_000_000
BLOB_TX_TYPE_BYTE = b"\x03"
ZERO_ADDRESS = b"\x00" * 20


class DevPyEVMBackend(PyEVMBackend):  # type: ignore[misc]
    """py-evm with an explicit chain id, the Cancun VM and anvil's dev accounts in genesis."""

    def __init__(
        self,
        chain_id: int = MEMORY_CHAIN_ID,
        *,
        accounts: int = DEV_ACCOUNT_COUNT,
        gas_limit: int = BLOCK_GAS_LIMIT,
    ) -> None:
        self._dev_chain_id = chain_id
        self._dev_accounts = accounts
        self._dev_gas_limit = gas_limit
        self._timestamp_pinned = False
        super().__init__()

    def reset_to_genesis(self, *_args: Any, **_kwargs: Any) -> None:
        """Build the chain; eth-tester's own arguments are ignored (everything is fixed here)."""
        keys = get_account_keys_from_mnemonic(
            DEV_MNEMONIC, quantity=self._dev_accounts, hd_path=DEV_DERIVATION_PATH
        )
        state = generate_genesis_state_for_keys(keys, overrides={"balance": DEV_BALANCE_WEI})
        params = get_default_genesis_params(overrides={"gas_limit": self._dev_gas_limit})
        self.account_keys = keys
        self.chain = _chain_class(self._dev_chain_id).from_genesis(get_db_backend(), params, state)

    def send_raw_transaction(self, raw_transaction: bytes) -> Any:
        """Refuse a transaction signed for another chain id, as anvil does (py-evm does not check)."""
        self._refresh_pending_timestamp()
        if raw_transaction[:1] != BLOB_TX_TYPE_BYTE:
            decoded = self.chain.get_vm().get_transaction_builder().decode(bytes(raw_transaction))
            signed_for = getattr(decoded, "chain_id", None)
            if signed_for is not None and signed_for != self._dev_chain_id:
                raise ValidationError(
                    f"transaction signed for chain id {signed_for}, but this chain is {self._dev_chain_id}"
                )
        return super().send_raw_transaction(raw_transaction)

    def send_transaction(self, transaction: Any) -> Any:
        self._refresh_pending_timestamp()
        return super().send_transaction(transaction)

    def send_signed_transaction(self, signed_transaction: Any, block_number: Any = "latest") -> Any:
        self._refresh_pending_timestamp()
        return super().send_signed_transaction(signed_transaction, block_number)

    def mine_blocks(self, num_blocks: int = 1, coinbase: Any = ZERO_ADDRESS) -> Any:
        self._refresh_pending_timestamp()
        try:
            return super().mine_blocks(num_blocks, coinbase)
        finally:
            self._timestamp_pinned = False

    def revert_to_snapshot(self, snapshot: Any) -> None:
        super().revert_to_snapshot(snapshot)
        self._timestamp_pinned = False

    def set_pending_timestamp(self, timestamp: int) -> None:
        """The timestamp the next mined block will carry."""
        chain = cast(MiningChain, self.chain)
        chain.header = chain.header.copy(timestamp=timestamp)
        self._timestamp_pinned = True

    def _refresh_pending_timestamp(self) -> None:
        """Date an empty pending block *now*, as anvil does.

        py-evm dates the next block when the previous one is mined, so after an idle
        minute a transaction would land in a block a minute old.
        """
        chain = cast(MiningChain, self.chain)
        header = chain.header
        if self._timestamp_pinned or header.gas_used:
            return
        now = _now()
        if now > header.timestamp:
            chain.header = header.copy(timestamp=now)


def _now() -> int:
    return int(time.time())


def _chain_class(chain_id: int) -> type[MiningChain]:
    vms = ConsensusApplier(NoProofConsensus).amend_vm_configuration(((0, CancunVM),))

    class DevChain(MiningChain):
        vm_configuration = vms

        def create_header_from_parent(self, parent_header: Any, **params: Any) -> Any:
            params["gas_limit"] = parent_header.gas_limit  # constant gas limit, like anvil
            return super().create_header_from_parent(parent_header, **params)

        def get_transaction_builder(self) -> Any:
            return self.get_vm().get_transaction_builder()

    DevChain.chain_id = chain_id
    return DevChain


def memory_web3(
    chain_id: int = MEMORY_CHAIN_ID,
    *,
    accounts: int = DEV_ACCOUNT_COUNT,
    auto_mine: bool = True,
) -> tuple[Web3, EthereumTester]:
    """A fresh in-process chain: its ``Web3`` and the ``EthereumTester`` behind it."""
    tester = EthereumTester(DevPyEVMBackend(chain_id, accounts=accounts), auto_mine_transactions=auto_mine)
    endpoints = {namespace: dict(methods) for namespace, methods in API_ENDPOINTS.items()}
    endpoints["eth"]["chainId"] = static_return(chain_id)
    endpoints["net"]["version"] = static_return(str(chain_id))
    return Web3(EthereumTesterProvider(tester, api_endpoints=endpoints)), tester
