"""Operations at volume: N consecutive ``ops.set_tier`` or ``ops.mint`` (distinct accounts and refs) on
a fresh managed anvil, through one Operator and one journal that grows as it would in daily use.

The time of every tenth of the run is kept: a tenth that takes longer than the one before means a
cost that grows with history (a journal re-read, a log scan from block 0). ``cache=True`` gives the
stack the CLI's event cache. ``pkr-pilot bench ops`` prints the figures.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError, UserInputError

if TYPE_CHECKING:
    from ..config import Project

__all__ = ["OPS_ACTIONS", "OpsBench", "run_ops_bench"]

OpsAction = Literal["set_tier", "mint"]
OPS_ACTIONS: tuple[OpsAction, ...] = ("set_tier", "mint")
#: The dev-default holders of the KYC and minter powers (see ``dev_default_config``).
_KYC, _MINTER = 7, 8


@dataclass(frozen=True)
class OpsBench:
    action: str
    count: int
    cache: bool
    total_s: float
    ops_per_s: float
    #: Operations per tenth, and the seconds each tenth took.
    chunk: int
    chunks_s: list[float]
    journal_lines: int
    blocks: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_ops_bench(
    project: Project,
    *,
    action: OpsAction = "set_tier",
    count: int = 1000,
    cache: bool = False,
    progress: Callable[[str], None] | None = None,
) -> OpsBench:
    """Deploy the dev-default stack on a fresh managed anvil and time ``count`` ``action`` operations."""
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    from .. import ops
    from ..accounts import dev_account
    from ..chain import connect
    from ..contracts import EventCache, Stack
    from ..deploy import deploy_stack, dev_default_config
    from ..ops import OperationsJournal, Operator, RunOptions
    from ..tx import Sender, TxPolicy

    if action not in OPS_ACTIONS:
        raise UserInputError(f"unknown action {action!r}", hint=f"one of {', '.join(OPS_ACTIONS)}")
    if count < 1:
        raise UserInputError(f"count must be at least 1, got {count}")
    say = progress or (lambda _message: None)
    with connect(project, "local", log=False) as chain, tempfile.TemporaryDirectory(prefix="pkr-ops-bench-") as tmp:
        if chain.kind != "anvil":
            raise ConfigError("the ops bench runs on a fresh managed anvil", hint="check [networks.local]")
        say("deploying the dev-default stack")
        deployment = deploy_stack(chain, dev_account(0, chain_id=chain.chain_id), project, dev_default_config(),
                                  deployments_dir=None)
        folder = Path(tmp)
        stack = Stack.from_deployment(chain.w3, deployment, cache=EventCache(folder / "events") if cache else None)
        signer = dev_account(_KYC if action == "set_tier" else _MINTER, chain_id=chain.chain_id)
        sender = Sender(chain.w3, signer, decoder=stack.decoder, policy=TxPolicy(timeout=20, poll_interval=0.02))
        journal = OperationsJournal.in_folder(folder)
        operator = Operator(stack, sender, journal, network="local")
        yes = RunOptions(yes=True)
        chunk = max(1, count // 10)
        chunks: list[float] = []
        start = last = time.perf_counter()
        for i in range(count):
            account = str(to_checksum_address(keccak(text=f"ops bench {i}")[:20]))
            if action == "set_tier":
                result = ops.set_tier(operator, account, 1, ref=f"KYC-B{i:06d}", options=yes)
            else:
                result = ops.mint(operator, account, 1, ref=f"BANK-B{i:06d}", options=yes)
            if not result.sent:
                raise ConfigError(f"ops bench: operation {i} ended {result.status}", hint="see the journal")
            if (i + 1) % chunk == 0:
                now = time.perf_counter()
                chunks.append(round(now - last, 2))
                say(f"{i + 1:6d} ops  {now - start:8.1f} s  (last {chunk}: {now - last:6.2f} s)")
                last = now
        total = time.perf_counter() - start
        with journal.path.open("rb") as fh:
            lines = sum(1 for _ in fh)
        return OpsBench(
            action=action, count=count, cache=cache, total_s=round(total, 2), ops_per_s=round(count / total, 2),
            chunk=chunk, chunks_s=chunks, journal_lines=lines, blocks=int(chain.w3.eth.block_number),
        )
