"""Chain identity: the chain id *and* the genesis block hash.

A chain id alone does not tell two chains apart: every local anvil is 31337, and a dev
chain started afresh keeps its id while losing everything on it. The hash of block 0
does: anvil picks a new genesis (its start second) at each fresh start, keeps it when it is
restarted from its state file (``pkr-pilot node`` after Ctrl-C), and a public or
permissioned network never changes it. (Two anvils started within the same second share
a genesis; the deploy also checks that recorded contracts have code, which catches that.)

::

    from pkr_pilot.chain.identity import read_identity

    identity = read_identity(chain.w3)          # ChainIdentity(chain_id=31337, genesis_hash="0x0e74…")
    identity.short                              # "31337/0x0e74a6c4"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ChainError

if TYPE_CHECKING:
    from web3 import Web3

__all__ = ["ChainIdentity", "read_identity"]


@dataclass(frozen=True)
class ChainIdentity:
    """Which chain a node serves: ``chain_id`` and the 0x-hex hash of block 0."""

    chain_id: int
    genesis_hash: str

    @property
    def short(self) -> str:
        """``<chain id>/<first 4 bytes of the genesis hash>`` for messages."""
        return f"{self.chain_id}/{self.genesis_hash[:10]}"

    def to_json(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "genesisHash": self.genesis_hash}

    @classmethod
    def from_json(cls, data: Any) -> ChainIdentity:
        """Raises ``ValueError`` / ``KeyError`` / ``TypeError`` on a malformed mapping."""
        genesis = str(data["genesisHash"]).lower()
        if not (genesis.startswith("0x") and len(genesis) == 66):
            raise ValueError(f"genesisHash {genesis[:20]!r} is not a 32-byte hex hash")
        return cls(int(data["chainId"]), genesis)


def read_identity(w3: Web3, chain_id: int | None = None) -> ChainIdentity:
    """Ask the node for its chain id (unless given) and the hash of block 0."""
    from web3.exceptions import Web3Exception

    try:
        block = w3.eth.get_block(0)
    except (OSError, ValueError, Web3Exception) as exc:
        raise ChainError(
            f"the node did not return block 0 ({type(exc).__name__}: {str(exc)[:120]})",
            hint="a node that prunes its genesis block cannot be bound to a deployments folder; use an archive or full node",
        ) from None
    genesis = block.get("hash") if block is not None else None
    if genesis is None:
        raise ChainError("the node returned block 0 without a hash", hint="is this an Ethereum JSON-RPC node?")
    cid = int(w3.eth.chain_id) if chain_id is None else int(chain_id)
    return ChainIdentity(cid, "0x" + bytes(genesis).hex())
