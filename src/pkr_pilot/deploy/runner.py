"""Run a deploy plan through :class:`~pkr_pilot.tx.Sender`, journaled and resumable.

The chain, not the journal, decides whether a step is done. For each step, in order:

1. **The journal says confirmed** with the same params: the chain must still show it (code
   matching the artifact at the recorded address for a creation; the effect read back, or
   the confirming transaction mined, for a call). Then nothing to do ("up to date"); if the
   chain no longer shows it (a dev chain reverted, a block replaced), the step runs again.
2. **A transaction is in flight** (journal ``sending``/``sent``, which carry the nonce and,
   for a creation, the expected CREATE address): the chain settles it. Code at the expected
   address, or the effect read back, means done whatever the receipt says (a node may answer
   ``null`` for a mined transaction); a transaction the node still holds is followed (a
   nonce gap in front of it is filled with an empty transfer); a consumed nonce without the
   effect, or a dropped transaction, means not done: send again.
3. **Chain already shows the effect** (``applied`` for a call; for a creation the journal
   does not know, the record's address with matching code, else a contract with matching
   code that the deployer created at one of its nonces and no other step or folder claims):
   journal it as confirmed ``via state``/``record``/``code``. Several candidates: stop and
   say which step and how to settle.
4. Otherwise: journal ``planned`` (with the nonce and, for a creation, the address it will
   get), simulate, sign (the signing wrapper journals ``sending`` with hash, nonce and
   address *before* the node sees it), submit, journal ``sent``, wait for the receipt or
   the evidence, journal ``confirmed``, write the record.

Losing the journal, or restoring an old copy, therefore never deploys a second contract.
The crash-and-resume drills (``tests/deploy``) kill the process at each of these points
from outside, through the fault proxy (``tests/drills/faultproxy.py``): no hook here.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from .._files import move_durably
from ..contracts import ContractHandle
from ..decode import ErrorDecoder
from ..errors import (
    ChainError,
    ConfigError,
    DeploymentError,
    MinedUnseen,
    PilotError,
    TransactionFailed,
    TransactionTimeout,
)
from ..progress import Progress
from ..tx import JournalingSigner, Sender, TxPolicy, node_knows, receipt_of
from ._code import code_hash, compare_code
from .config import DeployConfig
from .journal import DeployJournal, StepState
from .layout import check_compatible, extract_layout
from .plan import (
    DESK,
    IMPLEMENTATION_SLOT,
    TIMELOCK,
    TOKEN,
    TOKEN_IMPL,
    TOKEN_NEXT_IMPL,
    TOKEN_PROXY,
    Step,
    StepContext,
    build_plan,
)
from .records import ContractRecord, DeployedContract, Deployment, GitInfo, RecordStore, git_info

if TYPE_CHECKING:
    from web3 import Web3
    from web3.types import TxReceipt

    from ..chain.identity import ChainIdentity
    from ..compile import Artifact, Artifacts
    from ..tx import TxSigner

__all__ = ["DeployResult", "DeployRunner", "StepOutcome", "StepStatus", "create_address"]

#: What a step's progress event says (its phase is the status: start | sent | confirmed | applied |
#: up-to-date | recovered; "notice" events carry a message of their own). Empty: nothing to show.
_STEP_TEXT: dict[str, Callable[[str | None], str]] = {
    "start": lambda _tx: "",
    "sent": lambda tx: f"sent {tx}",
    "confirmed": lambda _tx: "confirmed",
    "recovered": lambda tx: f"found mined transaction {tx or '(from chain state)'}",
    "applied": lambda _tx: "already so on chain",
    "up-to-date": lambda _tx: "",  # done by an earlier run: summarised at the end, not listed
}
#: Statuses that finish a step (the count of a progress line).
STEP_DONE = frozenset({"confirmed", "recovered", "applied", "up-to-date"})

def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from ``sender`` with ``nonce`` deploys to."""
    import rlp  # type: ignore[import-untyped]
    from eth_utils.crypto import keccak

    raw = bytes.fromhex(sender[2:])
    return str(to_checksum_address(keccak(rlp.encode([raw, nonce]))[12:]))


class StepStatus(enum.StrEnum):
    """What became of a deploy step (its ``--json`` word)."""

    #: Done by a transaction of this run.
    SENT = "sent"
    #: Done by a transaction of an earlier, interrupted run (found mined).
    RECOVERED = "recovered"
    #: The chain already showed it (done by someone else, or by a run whose journal is gone).
    APPLIED = "applied"
    #: Done by an earlier run and still on chain: nothing to do.
    UP_TO_DATE = "up-to-date"
    #: Only the timelock may do it: scheduled through the timelock, then recorded by a later run.
    WAITING = "waiting"


@dataclass(frozen=True)
class StepOutcome:
    step: str
    title: str
    status: StepStatus
    tx_hash: str | None = None
    block: int | None = None
    gas_used: int | None = None
    address: str | None = None


@dataclass(frozen=True)
class DeployResult:
    """What a deploy run did."""

    deployment: Deployment
    outcomes: tuple[StepOutcome, ...]
    notices: tuple[str, ...]
    seconds: float
    config_source: str

    @property
    def transactions_sent(self) -> int:
        return sum(1 for o in self.outcomes if o.status is StepStatus.SENT)

    @property
    def up_to_date(self) -> bool:
        return all(o.status is StepStatus.UP_TO_DATE for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        out = self.deployment.to_json()
        out["status"] = "up to date" if self.up_to_date else "deployed"
        out["transactions"] = self.transactions_sent
        out["steps"] = [
            {k: v.value if isinstance(v, StepStatus) else v for k, v in vars(o).items() if v is not None}
            for o in self.outcomes
        ]
        out["notices"] = list(self.notices)
        out["seconds"] = round(self.seconds, 3)
        out["config"] = self.config_source
        return out


class DeployRunner:
    """Executes one deploy of ``config`` on one chain. Use :func:`pkr_pilot.deploy.deploy_stack`."""

    def __init__(
        self,
        *,
        w3: Web3,
        chain_id: int,
        identity: ChainIdentity | None = None,
        network: str,
        is_dev: bool,
        root: Path,
        config: DeployConfig,
        artifacts: Artifacts,
        solc_long_version: str | None,
        build_info: Callable[[str], Mapping[str, Any]],
        deployer: TxSigner,
        signers: Mapping[str, TxSigner],
        accounts: Mapping[str, str],
        store: RecordStore,
        journal: DeployJournal,
        policy: TxPolicy,
        upgrade: bool = False,
        progress: Callable[[Progress], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        foreign: frozenset[str] = frozenset(),
    ) -> None:
        self.w3 = w3
        self.chain_id = chain_id
        self.identity = identity
        #: Lower-case addresses other folders on this chain record: never this stack's.
        self.foreign = foreign
        #: nonce -> (address, runtime code) of the deployer's CREATEs, filled on demand.
        self._created: dict[int, tuple[str, bytes]] = {}
        self.network = network
        self.is_dev = is_dev
        self.root = root
        self.config = config
        self.artifacts = artifacts
        self.solc_long_version = solc_long_version
        self._build_info = build_info
        self.deployer = deployer
        self.deployer_address = str(to_checksum_address(deployer.address))
        self.signers = dict(signers)
        self.signers.setdefault(self.deployer_address, deployer)
        self.accounts = dict(accounts)
        self.store = store
        self.journal = journal
        self.policy = policy
        self.upgrade = upgrade
        self._progress = progress
        self._sleep = sleep
        self._notices: list[str] = []
        self._git: GitInfo | None = None
        self._decoder = ErrorDecoder(
            [artifacts[n].abi for n in (config.token.contract, "PilotRupeeProxy", "MintDesk", "PilotTimelock") if n in artifacts]
        )
        self.ctx = StepContext(
            w3=w3, chain_id=chain_id, deployer=self.deployer_address, config=config, artifacts=artifacts, accounts=self.accounts
        )

    # ------------------------------------------------------------------ entry point
    def run(self) -> DeployResult:
        started = time.perf_counter()
        self.store.check_chain_id(self.chain_id)
        with self._locked():
            self._check_identity()
            self._discard_stale_history()
            if self.identity is not None:
                self.store.bind(self.identity)
            upgrade_to = self._upgrade_decision()
            plan = build_plan(self.config, self.accounts, self.deployer_address, upgrade_to=upgrade_to)
            actors = self._actor_signers(plan)
            self.journal.append(
                "run",
                chain_id=self.chain_id,
                network=self.network,
                deployer=self.deployer_address,
                config=self.config.source,
                config_fingerprint=self.config.fingerprint(),
                steps=len(plan),
                upgrade=upgrade_to,
            )
            outcomes = []
            for index, step in enumerate(plan, start=1):
                try:
                    outcome = self._execute(index, len(plan), step, actors[step.id])
                except PilotError:
                    raise
                except OSError as exc:  # the node went away mid-step (requests/urllib errors are OSErrors)
                    raise ChainError(
                        f"lost the node during step {step.id}: {exc}",
                        hint="bring the node back and run the same deploy again: it resumes from the journal",
                    ) from None
                outcomes.append(outcome)
            self._ensure_records(plan)
            deployment = self._deployment()
        return DeployResult(
            deployment=deployment,
            outcomes=tuple(outcomes),
            notices=tuple(self._notices),
            seconds=time.perf_counter() - started,
            config_source=self.config.source,
        )

    # ------------------------------------------------------------------ safety
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self.journal.locked(self.network):
            yield

    def notice(self, text: str) -> None:
        """Say something to the user through the progress callback (and in the result)."""
        self._notice(text)

    def _check_identity(self) -> None:
        """The folder is bound to one chain: another genesis is a reset dev chain, or the wrong node."""
        recorded = self.store.recorded_identity()
        if recorded is None or self.identity is None or recorded == self.identity:
            return
        if not self.is_dev:
            raise DeploymentError(
                f"deployments/{self.network} is bound to chain {recorded.short} but the node serves chain "
                f"{self.identity.short} (same chain id, another genesis block)",
                hint="check --network: this node is not the chain these records describe",
            )
        self._set_aside("the dev chain was reset (new genesis block): earlier records were moved aside, deploying afresh")

    def _discard_stale_history(self) -> None:
        """The journal and records from a previous incarnation of a dev chain (same id, reset) are set aside."""
        known: list[tuple[str, str]] = []
        for step, confirmed in self.journal.confirmed_steps().items():
            address = confirmed.get("address")
            if address:
                known.append((step, str(address)))
        if not known:
            known = [(r.name, r.address) for r in self.store.records()]
        if not known:
            return
        present = [bool(self.w3.eth.get_code(a)) for _s, a in known]  # type: ignore[arg-type]
        if all(present):
            return
        if any(present):
            first_missing = present.index(False)
            if self.journal.confirmed_steps() and not any(present[first_missing:]):
                return  # the latest creations are gone (a chain reverted past them): redone step by step
            missing = [s for (s, _a), p in zip(known, present, strict=True) if not p]
            raise DeploymentError(
                f"deployments/{self.network} names contracts with no code on this chain ({', '.join(missing)})",
                hint="the folder and the chain disagree; check --network, or move the folder away",
            )
        if not self.is_dev:
            raise DeploymentError(
                f"none of the contracts recorded in deployments/{self.network} exist on chain {self.chain_id}",
                hint="check --network; if the chain was reset, move the folder away",
            )
        self._set_aside("the dev chain was reset: earlier records were moved aside, deploying afresh")

    def _set_aside(self, message: str) -> None:
        archived = self.journal.archive("stale")
        if self.store.folder is not None:
            stale = self.store.folder / f".stale-{int(time.time() * 1000)}"
            stale.mkdir(parents=True, exist_ok=True)
            for record in self.store.names():
                move_durably(self.store.folder / f"{record}.json", stale / f"{record}.json")
            if archived is not None:
                move_durably(archived, stale / archived.name)
            identity = self.store.folder / ".chain.json"
            if identity.exists():
                move_durably(identity, stale / identity.name)
        self._notice(message)

    # ------------------------------------------------------------------ upgrade
    def _upgrade_decision(self) -> str | None:
        """Code-hash tag of a new implementation to deploy and upgrade to, or None."""
        proxy = self._known_address("token.proxy", TOKEN)
        if proxy is None:
            return None
        for state in self.journal.steps():
            # An upgrade that an earlier run started is finished (and recorded) first.
            if not state.step.startswith(("token.upgradeToAndCall@", "token.implementation@")):
                continue
            tag = state.step.split("@", 1)[1]
            if not self.journal.state(f"token.upgradeToAndCall@{tag}").is_confirmed:
                return tag
        raw = bytes(self.w3.eth.get_storage_at(proxy, IMPLEMENTATION_SLOT))  # type: ignore[arg-type]
        current = str(to_checksum_address(raw[-20:]))
        artifact = self.artifacts[self.config.token.contract]
        on_chain = bytes(self.w3.eth.get_code(current))  # type: ignore[arg-type]
        if compare_code(on_chain, artifact.deployed_bytecode, artifact.immutable_references) != "mismatch":
            return None
        tag = code_hash(artifact.deployed_bytecode, artifact.immutable_references)[2:14]
        if not self.upgrade:
            self._notice(
                f"the local {artifact.name} build differs from the implementation at {current}: "
                "not upgraded (run with --upgrade)"
            )
            return None
        old = self.store.read(TOKEN_IMPL)
        if old is None or old.storage_layout is None:
            raise DeploymentError(
                "no recorded storage layout for the deployed implementation; refusing to upgrade blind",
                hint=f"deployments/{self.network}/{TOKEN_IMPL}.json is missing",
            )
        if old.address != current:
            raise DeploymentError(
                f"the proxy points at {current} but the record says {old.address}",
                hint="the proxy was upgraded outside this tool; refresh the records before upgrading",
            )
        check_compatible(old.storage_layout, self._layout(artifact), contract=artifact.name)
        return tag

    def _layout(self, artifact: Artifact) -> dict[str, Any]:
        return extract_layout(
            artifact.storage_layout, self._build_info(artifact.build_info_id), artifact.source_name, artifact.name
        )

    def _known_address(self, step: str, record: str) -> str | None:
        state = self.journal.state(step)
        if state.is_confirmed and state.confirmed and state.confirmed.get("address"):
            return str(state.confirmed["address"])
        rec = self.store.read(record)
        return rec.address if rec is not None else None

    # ------------------------------------------------------------------ signers
    def _actor_signers(self, plan: Sequence[Step]) -> dict[str, TxSigner | None]:
        """The key for each step; None when only the timelock holds the role (a governed step)."""
        from .config import TOKEN_ROLES

        out: dict[str, TxSigner | None] = {}
        for step in plan:
            if step.actor == "deployer":
                out[step.id] = self.deployer
                continue
            refs = self.config.role_holders(step.actor)
            holders = [self.accounts.get(r) for r in refs if r not in ("timelock", "mint_desk")]
            if self.deployer_address in holders:
                out[step.id] = self.deployer
                continue
            signer = next((self.signers[h] for h in holders if h in self.signers), None)
            if signer is None and "timelock" in refs:
                out[step.id] = None
                continue
            if signer is None:
                role = TOKEN_ROLES.get(step.actor, step.actor)
                who = ", ".join(refs) or "nobody"
                raise ConfigError(
                    f"step {step.id} must be signed by a {role} holder ({who}) and no key for one was given",
                    hint=f"set accounts.{step.actor} = \"keystore:NAME\" in the network config, "
                    f"or add the deployer to roles.{step.actor}",
                )
            out[step.id] = signer
        return out

    # ------------------------------------------------------------------ one step
    def _execute(self, index: int, total: int, step: Step, signer: TxSigner | None) -> StepOutcome:
        state = self.journal.state(step.id)
        if state.is_confirmed and state.params == step.params_hash and state.confirmed is not None:
            if self._still_on_chain(step, state.confirmed):
                self._absorb(step, state.confirmed)
                self._emit(index, total, step, "up-to-date", state.confirmed.get("tx"))
                return self._outcome(step, StepStatus.UP_TO_DATE, state.confirmed)
            self._notice(
                f"{step.title}: the journal says done (transaction {state.confirmed.get('tx') or 'unknown'}) "
                "but the chain does not show it (reverted or replaced): doing it again"
            )

        self._emit(index, total, step, "start")
        if signer is None:
            return self._governed(index, total, step)
        if state.inflight:
            settled = self._settle_inflight(step, state, signer)
            if settled is not None:
                self._emit(index, total, step, "recovered", settled.get("tx"))
                return self._outcome(step, StepStatus.RECOVERED, settled)

        found = self._already_there(step, state)
        if found is not None:
            self._emit(index, total, step, "applied", found.get("tx"))
            return self._outcome(step, StepStatus.APPLIED, found)

        confirmed = self._send(step, state, signer, index, total)
        self._emit(index, total, step, "confirmed", confirmed.get("tx"))
        return self._outcome(step, StepStatus.SENT, confirmed)

    def _governed(self, index: int, total: int, step: Step) -> StepOutcome:
        """A step only the timelock may perform: done once the chain shows it, else a notice."""
        assert step.applied is not None and step.function is not None
        if step.applied(self.ctx):
            found = self._confirm(step, via="state")
            self._emit(index, total, step, "applied")
            return self._outcome(step, StepStatus.APPLIED, found)
        args = step.args(self.ctx)
        target = self.ctx.contract(step.target)
        data = "0x" + target.build(step.function, *args).data.hex()
        shown = ", ".join(str(a) if not isinstance(a, bytes) else "0x" + a.hex() for a in args)
        self._notice(
            f"{step.title}: the timelock holds this power; schedule {step.function}({shown}) on {target.address} "
            f"through it (pkr-pilot timelock schedule), then run this deploy again to record it. Call data: {data}"
        )
        return StepOutcome(step=step.id, title=step.title, status=StepStatus.WAITING)

    def _still_on_chain(self, step: Step, confirmed: Mapping[str, Any]) -> bool:
        """Does the chain show a step the journal calls confirmed?"""
        if step.is_create:  # code at the address the deployer's CREATE produced (a changed artifact is --upgrade's business)
            address = confirmed.get("address")
            return bool(address) and bool(self.w3.eth.get_code(str(address)))  # type: ignore[arg-type]
        if step.applied is not None and step.applied(self.ctx):
            return True
        tx_hash = confirmed.get("tx")  # the effect may have moved on since (an allowance spent): the transaction
        return bool(tx_hash) and self._mined_ok(str(tx_hash))

    def _mined_ok(self, tx_hash: str) -> bool:
        receipt = receipt_of(self.w3, tx_hash)
        return receipt is not None and int(receipt["status"]) == 1

    def _code_matches(self, step: Step, address: str) -> bool:
        """Runtime code at ``address`` is the step's artifact (and, for the proxy, points at our implementation)."""
        assert step.artifact is not None
        code = bytes(self.w3.eth.get_code(address))  # type: ignore[arg-type]
        return self._is_ours(step, address, code)

    def _is_ours(self, step: Step, address: str, code: bytes) -> bool:
        assert step.artifact is not None
        artifact = self.artifacts[step.artifact]
        if compare_code(code, artifact.deployed_bytecode, artifact.immutable_references) == "mismatch":
            return False
        if step.target == TOKEN_PROXY and TOKEN_IMPL in self.ctx.addresses:
            raw = bytes(self.w3.eth.get_storage_at(address, IMPLEMENTATION_SLOT))  # type: ignore[arg-type]
            return raw[-20:] == bytes.fromhex(self.ctx.addresses[TOKEN_IMPL][2:])
        if step.target == DESK and TOKEN_PROXY in self.ctx.addresses:
            desk = ContractHandle(self.w3, address, artifact.abi, name=artifact.name)
            return str(desk.view("token")).lower() == self.ctx.addresses[TOKEN_PROXY].lower()
        return True

    def _already_there(self, step: Step, state: StepState) -> dict[str, Any] | None:
        if step.is_create:
            if "@" in step.id:
                return None  # an upgrade's new implementation: the old record is not it
            record = self.store.read(step.target)
            if record is not None and self.w3.eth.get_code(record.address):  # type: ignore[arg-type]
                return self._confirm(step, via="record", address=record.address, tx=record.transaction_hash,
                                     block=record.block_number, args=list(record.args))
            return self._created_earlier(step)
        assert step.applied is not None
        if step.applied(self.ctx):
            return self._confirm(step, via="state")
        return None

    def _created_earlier(self, step: Step) -> dict[str, Any] | None:
        """A contract of this step that the deployer created earlier (journal and record lost)."""
        sender = self.deployer_address
        mined = int(self.w3.eth.get_transaction_count(sender, "latest"))  # type: ignore[arg-type]
        for nonce in range(len(self._created), mined):
            address = create_address(sender, nonce)
            self._created[nonce] = (address, bytes(self.w3.eth.get_code(address)))  # type: ignore[arg-type]
        claimed = {a.lower() for a in self.ctx.addresses.values()} | self.foreign
        found = [
            (nonce, address)
            for nonce, (address, code) in sorted(self._created.items())
            if code and address.lower() not in claimed and self._is_ours(step, address, code)
        ]
        if not found:
            return None
        if len(found) > 1:
            listed = ", ".join(f"{a} (nonce {n})" for n, a in found)
            raise DeploymentError(
                f"step {step.id}: the deployer {sender} created {len(found)} contracts that fit it ({listed}) "
                f"and neither the journal nor a record in deployments/{self.network} says which one is this stack's",
                hint=f"restore deployments/{self.network}/{step.target}.json (or the journal) from a backup, "
                "or deploy a separate stack into a new folder with --new-stack",
            )
        nonce, address = found[0]
        self._notice(f"{step.title}: found on chain at {address} (created by {sender} with nonce {nonce}); not deploying again")
        return self._confirm(step, via="code", address=address, nonce=nonce)

    def _settle_inflight(self, step: Step, state: StepState, signer: TxSigner) -> dict[str, Any] | None:
        """Settle transactions an earlier run signed; the confirmation, or None to send anew.

        Evidence first (code at the expected address, the effect read back), then the node's
        view of the transactions themselves; a receipt that is missing proves nothing.
        """
        sender_address = state.sender or signer.address
        found = self._evidence(step, sender_address, state.inflight, args=state.args)
        if found is not None:
            return found
        sender = Sender(self.w3, signer, decoder=self._decoder, policy=self.policy, sleep=self._sleep,
                        chain_id=self.chain_id)
        for tx_hash, nonce in reversed(state.inflight):
            if not node_knows(self.w3, tx_hash):  # neither mined nor pending in the node
                continue
            self._fill_gap(signer, sender_address, nonce)
            try:
                receipt = sender.wait(tx_hash, action=step.title)  # the receipt; raises decoded if status 0
            except TransactionFailed:
                self.journal.append("failed", step.id, tx=tx_hash)
                raise
            except TransactionTimeout:
                found = self._evidence(step, sender_address, state.inflight, args=state.args)
                if found is not None:
                    return found
                raise self._undecided(step, tx_hash, nonce) from None
            return self._confirm_receipt(step, tx_hash, nonce, receipt, args=state.args)
        # Not on chain by its effect, unknown to the node: a consumed nonce went to a transaction
        # that did not do this (reverted, or the chain replaced it); a free one was dropped. Send again.
        return None

    def _evidence(
        self, step: Step, sender: str, inflight: Sequence[tuple[str, int]], *, args: list[Any] | None
    ) -> dict[str, Any] | None:
        """The chain shows the effect of one of ``inflight``: confirm it (with its receipt if the node has one)."""
        if step.is_create:
            for tx_hash, nonce in reversed(inflight):
                address = create_address(sender, nonce)
                if self._code_matches(step, address):
                    details = self._receipt_fields(tx_hash)
                    return self._confirm(step, via="code", address=address, tx=tx_hash, nonce=nonce, args=args, **details)
            return None
        assert step.applied is not None
        if not step.applied(self.ctx):
            return None
        for tx_hash, nonce in reversed(inflight):
            details = self._receipt_fields(tx_hash)
            if details:
                return self._confirm(step, via="receipt", tx=tx_hash, nonce=nonce, args=args, **details)
        return self._confirm(step, via="state", tx=inflight[-1][0] if inflight else None)

    def _receipt_fields(self, tx_hash: str) -> dict[str, Any]:
        receipt = receipt_of(self.w3, tx_hash)
        if receipt is None or int(receipt["status"]) != 1:
            return {}
        return {
            "block": int(receipt["blockNumber"]),
            "block_hash": "0x" + bytes(receipt["blockHash"]).hex(),
            "gas_used": int(receipt["gasUsed"]),
        }

    def _fill_gap(self, signer: TxSigner, sender_address: str, nonce: int) -> None:
        """Nonces below ``nonce`` that nothing mined or pending holds keep our transaction waiting: fill them."""
        if str(to_checksum_address(signer.address)) != str(to_checksum_address(sender_address)):
            return
        filler = Sender(self.w3, signer, decoder=self._decoder, policy=self.policy, sleep=self._sleep,
                        chain_id=self.chain_id)
        filler.fill_gap(nonce, notice=self._notice)

    def _undecided(self, step: Step, tx_hash: str, nonce: int) -> DeploymentError:
        return DeploymentError(
            f"step {step.id}: transaction {tx_hash} (nonce {nonce}) was sent but the node neither confirms it "
            "nor shows its effect yet",
            hint="run the same deploy again to follow it; it is never sent twice while its nonce can still be mined",
        )

    def _send(self, step: Step, state: StepState, signer: TxSigner, index: int, total: int) -> dict[str, Any]:
        if step.time_dependent and state.args is not None and state.params == step.params_hash and not state.is_confirmed:
            args = list(state.args)  # fixed on the first attempt (e.g. the attestation's asOf); not when redoing a reverted step
        else:
            args = step.args(self.ctx)
        tx = self._transaction(step, args)
        # The nonce the chain has mined up to: the node's "pending" count may run ahead of a gap.
        nonce = int(self.w3.eth.get_transaction_count(signer.address, "latest"))  # type: ignore[arg-type]
        address = create_address(signer.address, nonce) if step.is_create else None
        self.journal.append(
            "planned", step.id, params=step.params_hash, args=args, sender=signer.address, nonce=nonce, address=address
        )

        def record(tx_hash: str, signed: Mapping[str, Any]) -> None:  # before the node can see it
            at = int(signed["nonce"])
            created = create_address(signer.address, at) if not signed.get("to") else None
            self.journal.append("sending", step.id, tx=tx_hash, nonce=at, sender=signer.address, address=created)

        wrapped = JournalingSigner(signer, record)
        sender = Sender(self.w3, wrapped, decoder=self._decoder, policy=self.policy, sleep=self._sleep,
                        chain_id=self.chain_id)
        simulation = sender.simulate(tx, action=step.title)
        gas = simulation.gas * (100 + self.policy.gas_margin_percent) // 100
        sent = sender.send(tx, gas=gas, nonce=nonce)
        self.journal.append("sent", step.id, tx=sent.tx_hash, nonce=sent.nonce)
        self._emit(index, total, step, "sent", sent.tx_hash)
        try:
            receipt = sender.wait(sent, action=step.title)
        except (TransactionTimeout, MinedUnseen):  # the chain may still show the step done
            found = self._evidence(step, signer.address, [(sent.tx_hash, sent.nonce)], args=args)
            if found is None:
                raise self._undecided(step, sent.tx_hash, sent.nonce) from None
            return found
        confirmed = self._confirm_receipt(step, sent.tx_hash, sent.nonce, receipt, args=args)
        return confirmed

    def _transaction(self, step: Step, args: list[Any]) -> dict[str, Any]:
        if step.is_create:
            assert step.artifact is not None
            artifact = self.artifacts[step.artifact]
            return {"data": "0x" + (artifact.bytecode + _encode_constructor(artifact.abi, args)).hex()}
        assert step.function is not None
        call = self.ctx.contract(step.target).build(step.function, *args)
        return {"to": call.target, "data": "0x" + call.data.hex()}

    # ------------------------------------------------------------------ confirmation
    def _confirm_receipt(
        self, step: Step, tx_hash: str, nonce: int, receipt: TxReceipt, *, args: list[Any] | None
    ) -> dict[str, Any]:
        address = receipt.get("contractAddress")
        return self._confirm(
            step,
            via="receipt",
            tx=tx_hash,
            nonce=nonce,
            block=int(receipt["blockNumber"]),
            block_hash="0x" + bytes(receipt["blockHash"]).hex(),
            gas_used=int(receipt["gasUsed"]),
            address=str(to_checksum_address(address)) if address else None,
            args=args,
        )

    def _confirm(self, step: Step, *, via: str, **fields: Any) -> dict[str, Any]:
        fields = {k: v for k, v in fields.items() if v is not None}
        if step.is_create and "args" not in fields:
            fields["args"] = step.args(self.ctx)
        entry = self.journal.append("confirmed", step.id, params=step.params_hash, via=via, **fields)
        self._absorb(step, entry)
        if step.is_create:
            self._write_records(step, entry, overwrite=True)
        elif step.function == "upgradeToAndCall":
            self._record_upgrade(entry)
        return entry

    def _absorb(self, step: Step, confirmed: Mapping[str, Any]) -> None:
        address = confirmed.get("address")
        if step.is_create and address:
            self.ctx.addresses[step.target] = str(address)
            if step.target == TOKEN_PROXY:
                self.ctx.addresses[TOKEN] = str(address)

    # ------------------------------------------------------------------ records
    def _ensure_records(self, plan: Sequence[Step]) -> None:
        """Write records that a crash between ``confirmed`` and the file write left missing."""
        for step in plan:
            if not step.is_create or "@" in step.id:
                continue
            state = self.journal.state(step.id)
            if state.is_confirmed and state.confirmed is not None and self.store.read(step.target) is None:
                self._write_records(step, state.confirmed, overwrite=False)
        if TOKEN_PROXY in self.ctx.addresses and self.store.read(TOKEN) is None:
            proxy_state = self.journal.state("token.proxy")
            if proxy_state.confirmed is not None:
                self._write_token_record(proxy_state.confirmed)

    def _write_records(self, step: Step, confirmed: Mapping[str, Any], *, overwrite: bool) -> None:
        assert step.artifact is not None
        artifact = self.artifacts[step.artifact]
        layout = self._layout(artifact) if step.target in (TOKEN_IMPL, TOKEN_NEXT_IMPL) else None
        record = self._record(step.target, artifact, confirmed, storage_layout=layout)
        if overwrite or self.store.read(step.target) is None:
            self.store.write(record)
            self.store.write_solc_input(artifact.build_info_id, self._build_info(artifact.build_info_id).get("input", {}))
        if step.target == TOKEN_PROXY:
            self._write_token_record(confirmed)

    def _write_token_record(self, proxy_confirmed: Mapping[str, Any]) -> None:
        """PilotRupee.json: the proxy address with the implementation's ABI (hardhat-deploy style)."""
        impl = self.store.read(TOKEN_IMPL)
        artifact = self.artifacts["PilotRupeeProxy"]
        token = self.config.token
        record = self._record(TOKEN, artifact, proxy_confirmed, storage_layout=None)
        record = _replace(
            record,
            abi=tuple(impl.abi) if impl is not None else tuple(self.artifacts[token.contract].abi),
            implementation=impl.address if impl is not None else self.ctx.addresses.get(TOKEN_IMPL),
            execute={
                "methodName": "initialize",
                "args": [token.name, token.symbol, token.decimals, self.deployer_address, self.config.admin_delay],
            },
        )
        self.store.write(record)

    def _record_upgrade(self, confirmed: Mapping[str, Any]) -> None:
        """The proxy now runs the next implementation: it becomes ``PilotRupee_Implementation``."""
        token = self.store.read(TOKEN)
        nxt = self.store.read(TOKEN_NEXT_IMPL)
        if token is None or nxt is None:
            return
        self.store.write(_replace(nxt, name=TOKEN_IMPL))
        self.store.remove(TOKEN_NEXT_IMPL)
        self.ctx.addresses[TOKEN_IMPL] = nxt.address
        history = [*token.history, {"implementation": token.implementation, "replacedBy": confirmed.get("tx")}]
        self.store.write(_replace(token, abi=tuple(nxt.abi), implementation=nxt.address, history=tuple(history)))

    def _record(
        self, name: str, artifact: Artifact, confirmed: Mapping[str, Any], *, storage_layout: Mapping[str, Any] | None
    ) -> ContractRecord:
        if self._git is None:
            self._git = git_info(self.root)
        return ContractRecord(
            name=name,
            address=str(confirmed["address"]),
            abi=tuple(artifact.abi),
            contract_name=artifact.name,
            source_name=artifact.source_name,
            transaction_hash=confirmed.get("tx"),
            block_number=confirmed.get("block"),
            block_hash=confirmed.get("block_hash"),
            gas_used=confirmed.get("gas_used"),
            deployer=str(confirmed.get("sender") or self.deployer_address),
            args=tuple(_jsonable_args(confirmed.get("args") or [])),
            chain_id=self.chain_id,
            solc_long_version=self.solc_long_version,
            build_info_id=artifact.build_info_id,
            bytecode=artifact.bytecode_hex,
            deployed_bytecode=artifact.deployed_bytecode_hex,
            git=self._git,
            timestamp=int(time.time()),
            storage_layout=storage_layout,
            immutable_references=artifact.immutable_references or None,
        )

    def _deployment(self) -> Deployment:
        contracts: dict[str, DeployedContract] = {}
        for name in (TOKEN, DESK, TIMELOCK):
            record = self.store.read(name)
            if record is not None:
                contracts[name] = DeployedContract(name, record.address, tuple(record.abi), record.implementation)
        return Deployment(self.network, self.chain_id, contracts)

    # ------------------------------------------------------------------ output
    def _outcome(self, step: Step, status: StepStatus, confirmed: Mapping[str, Any]) -> StepOutcome:
        return StepOutcome(
            step=step.id,
            title=step.title,
            status=status,
            tx_hash=confirmed.get("tx"),
            block=confirmed.get("block"),
            gas_used=confirmed.get("gas_used"),
            address=confirmed.get("address"),
        )

    def _emit(self, index: int, total: int, step: Step, status: str, tx_hash: str | None = None) -> None:
        if self._progress is not None:
            text = _STEP_TEXT[status](tx_hash)
            self._progress(Progress(index, total, status, f"{step.title}: {text}" if text else ""))

    def _notice(self, text: str) -> None:
        self._notices.append(text)
        if self._progress is not None:
            self._progress(Progress(0, 0, "notice", text))


def _replace(record: ContractRecord, **changes: Any) -> ContractRecord:
    from dataclasses import replace

    return replace(record, **changes)


def _jsonable_args(args: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in args:
        if isinstance(value, bytes | bytearray):
            out.append("0x" + bytes(value).hex())
        elif isinstance(value, list | tuple):
            out.append(_jsonable_args(value))
        else:
            out.append(value)
    return out


def _encode_constructor(abi: Sequence[Mapping[str, Any]], args: Sequence[Any]) -> bytes:
    from eth_abi.abi import encode

    ctor = next((item for item in abi if item.get("type") == "constructor"), None)
    inputs = ctor.get("inputs", []) if ctor else []
    if len(inputs) != len(args):
        raise DeploymentError(f"constructor takes {len(inputs)} arguments, {len(args)} given")
    types = [_abi_type(i) for i in inputs]
    values = [bytes.fromhex(v[2:]) if isinstance(v, str) and t.startswith("bytes") and v.startswith("0x") else v
              for t, v in zip(types, args, strict=True)]
    return bytes(encode(types, values))


def _abi_type(param: Mapping[str, Any]) -> str:
    typ = str(param["type"])
    if typ.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param.get('components', []))}){typ[5:]}"
    return typ
