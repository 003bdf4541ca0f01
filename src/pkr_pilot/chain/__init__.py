"""Chains: the managed anvil, the in-process EVM, any JSON-RPC node, one handle for all.

Knows nothing about the token. Public API::

    from pkr_pilot.chain import connect

    with connect(project, "local") as chain:        # managed anvil, stopped afterwards
        chain.w3.eth.block_number
        with chain.snapshot():                      # undone after the block
            chain.increase_time(3600)

* :func:`connect` -> :class:`Chain` (``w3``, ``network``, ``chain_id``, ``is_dev``, ``kind``,
  snapshots, ``mine``, ``increase_time``, ``set_next_timestamp``, anvil state dumps)
* :class:`AnvilNode` / :class:`AnvilOptions` / :func:`find_anvil`: the anvil process itself
  (used by ``pkr-pilot node`` and by tests that restart a node from its state file)
* the memory backend lives in :mod:`pkr_pilot.chain.memory` (imported on demand: it loads py-evm)

Errors (all from :mod:`pkr_pilot.errors`): ``ChainError`` (unreachable, not a node, control
not available), ``ChainIdMismatch``, ``NodeStartError`` (with anvil's last words),
``ToolchainError`` (anvil missing).

Nothing here imports web3 at import time; :func:`connect` does, when called.
"""

from __future__ import annotations

from .anvil import (
    DEFAULT_CHAIN_ID,
    AnvilNode,
    AnvilOptions,
    anvil_package_name,
    find_anvil,
    free_port,
)
from .handle import REQUEST_TIMEOUT, Chain, ChainKind, SnapshotId, connect, web3_for_url

__all__ = [
    "DEFAULT_CHAIN_ID",
    "REQUEST_TIMEOUT",
    "AnvilNode",
    "AnvilOptions",
    "Chain",
    "ChainKind",
    "SnapshotId",
    "anvil_package_name",
    "connect",
    "find_anvil",
    "free_port",
    "web3_for_url",
]
