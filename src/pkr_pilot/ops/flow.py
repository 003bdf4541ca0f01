"""The one flow every privileged operation goes through, written once.

::

    plan (validated input, the call, its idempotency key)            ── ops/actions.py
      │
      ├─ journal: done? ─────────────────────────▶ "already-done"   (nothing sent)
      ├─ journal: in flight? ── receipt / mempool / nonce ─▶ resume waiting, or settle it
      ├─ chain evidence (e.g. a Minted event with this ref) ─▶ "already-done"
      ├─ simulate (eth_call + estimate; a revert raises the decoded error)
      ├─ dry run? ─────────────────────────────────▶ "dry-run"        (nothing sent)
      ├─ confirm (callback) unless yes
      ├─ under the journal lock: re-check, sign, journal "sending", submit, journal "sent"
      ├─ wait for the network's confirmations (tx.Sender.wait: dropped / undecided / timeout /
      │  failed raise, journalled; a nonce gap below it is filled with empty transfers: tx.GapWatch)
      └─ journal "confirmed" with block, gas and supply after  ─▶ "confirmed"

The idempotency check runs *before* simulation: re-running a command whose transaction was mined
must say "already done", not show the revert a second attempt would hit.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import (
    ChainError,
    SentNotConfirmed,
    TransactionFailed,
    UserInputError,
)
from ..human import plain
from ..tx import (
    JournalingSigner,
    Sender,
    Sent,
    TransactionDropped,
    node_knows,
    receipt_of,
)
from .journal import OperationsJournal, OperationState, tx_fields, tx_from_fields

if TYPE_CHECKING:
    from web3.types import TxReceipt

    from ..contracts import Call, DecodedEvent, Stack

__all__ = [
    "Evidence",
    "OperationResult",
    "OperationStatus",
    "Operator",
    "Plan",
    "Preview",
    "RunOptions",
]


@dataclass(frozen=True)
class Evidence:
    """Proof on chain that an operation already happened (an event, or the state it leads to)."""

    detail: str
    tx_hash: str | None = None
    block: int | None = None
    #: What the operation would have returned (e.g. ``request_id``), for ``--json`` on a re-run.
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A validated operation, ready to simulate and send."""

    #: Operator action name (``mint``, ``freeze-amount``, ``mint-request`` …).
    action: str
    call: Call
    #: Arguments as people read them (``{"amount": "1,250.50 PKRP"}``), for prompts and summaries.
    display: Mapping[str, str]
    #: Arguments as recorded in the journal (exact: base units as decimal strings, checksummed addresses).
    args: Mapping[str, str]
    #: Idempotency key (the ref text by default) and its scope.
    key: str
    scope: str
    ref: bytes | None = None
    ref_text: str | None = None
    #: Looks for the operation on chain; may raise UserInputError on a conflicting use of the ref.
    evidence: Callable[[], Evidence | None] | None = None
    #: Check the chain even under an explicit --idempotency-key: money creation (a ref mints once), and
    #: every plan whose on-chain ref is that key (``actions.perform``: a deliberate repeat found by its key).
    strict_ref: bool = False
    #: Extracts result values (e.g. ``request_id``) from the receipt's decoded events.
    values_from_events: Callable[[Sequence[DecodedEvent]], Mapping[str, Any]] | None = None
    #: Things the operator should know before sending (shown in the prompt, the dry run and under --yes).
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.display.items())
        return f"{self.action}({shown})"

    def fingerprint(self, chain_id: int) -> str:
        body = {
            "chain_id": chain_id,
            "contract": self.call.target,
            "function": self.call.signature,
            "args": dict(self.args),
        }
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        return f"sha256:{digest}"


@dataclass(frozen=True)
class RunOptions:
    """How to run a plan."""

    #: Do not ask for confirmation.
    yes: bool = False
    #: Simulate and stop: nothing is signed, sent or journalled.
    dry_run: bool = False
    #: Idempotency key instead of the ref (a deliberate second operation with the same ref).
    idempotency_key: str | None = None
    #: Speed up this operation's stuck transaction (same nonce, higher fees).
    replace: bool = False


@dataclass(frozen=True)
class Preview:
    """What the simulation said, shown before anything is sent."""

    plan: Plan
    sender: str
    gas_estimate: int | None
    #: Decoded return value of the call (e.g. the id ``requestMint`` would return).
    returns: Any = None
    #: Set when this is a fee bump of a stuck transaction.
    replacing: str | None = None

    def text(self) -> str:
        parts = [f"{self.plan.call.describe()} from {self.sender}"]
        if self.replacing:
            parts.append(f"replaces stuck transaction {self.replacing} with higher fees")
        else:
            parts.append(f"simulation ok, gas ≈ {self.gas_estimate:,}" if self.gas_estimate else "simulation ok")
        if self.returns is not None:
            parts.append(f"returns {self.returns}")
        parts.extend(f"WARNING: {w}" for w in self.plan.warnings)
        return "; ".join(parts)


class OperationStatus(enum.StrEnum):
    """What an operation did (its ``--json`` word)."""

    #: Sent (or resumed) and mined with the network's confirmations.
    CONFIRMED = "confirmed"
    #: The journal or the chain shows it was done before: nothing was sent.
    ALREADY_DONE = "already-done"
    #: Simulated only: nothing was sent.
    DRY_RUN = "dry-run"


@dataclass(frozen=True)
class OperationResult:
    """What an operation did (``status``), with its transaction and what the chain shows after it."""

    action: str
    status: OperationStatus
    key: str
    sender: str
    call: str
    display: Mapping[str, str]
    args: Mapping[str, str]
    ref: str | None = None
    ref_text: str | None = None
    tx_hash: str | None = None
    nonce: int | None = None
    block: int | None = None
    gas_used: int | None = None
    gas_estimate: int | None = None
    supply_after: int | None = None
    events: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def sent(self) -> bool:
        return self.status is OperationStatus.CONFIRMED

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "status": self.status.value,
            "key": self.key,
            "sender": self.sender,
            "call": self.call,
            "args": dict(self.args),
            "display": dict(self.display),
            "ref": self.ref,
            "ref_text": self.ref_text,
            "tx_hash": self.tx_hash,
            "nonce": self.nonce,
            "block": self.block,
            "gas_used": self.gas_used,
            "gas_estimate": self.gas_estimate,
            "supply_after": None if self.supply_after is None else str(self.supply_after),
            "events": list(self.events),
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "note": self.note,
        }


ConfirmFn = Callable[[Preview], bool]
ProgressFn = Callable[[str], None]


class Operator:
    """Runs operator actions for one account on one deployed stack, journalling each one.

    ``sender`` signs and sends (its policy carries the network's confirmations, fee caps and timeout);
    ``confirm`` is asked before anything is sent unless ``yes``; ``progress`` receives one-line status
    messages (``sent 0x… (nonce 7), waiting for 2 confirmations``). Tests crash or fault it from outside
    (the fault proxy in front of its node, a signal), never through a hook here.
    """

    def __init__(
        self,
        stack: Stack,
        sender: Sender,
        journal: OperationsJournal,
        *,
        network: str,
        confirm: ConfirmFn | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        self.stack = stack
        self.sender = sender
        self.journal = journal
        self.network = network
        self.confirm = confirm
        self.progress = progress or (lambda _msg: None)

    @property
    def address(self) -> str:
        return self.sender.address

    # ------------------------------------------------------------------ the flow
    def run(self, plan: Plan, options: RunOptions | None = None) -> OperationResult:
        """Run ``plan`` through the flow (see the module docstring)."""
        opts = options or RunOptions()
        if opts.idempotency_key is not None:
            if not opts.idempotency_key.strip():
                raise UserInputError("the idempotency key is empty")
            plan = replace(plan, key=opts.idempotency_key.strip())
        chain_id = self.sender.chain_id
        fingerprint = plan.fingerprint(chain_id)
        op = self._op_record(plan, fingerprint, chain_id)

        state = self.journal.state(plan.scope, plan.key)
        self._check_fingerprint(plan, state, fingerprint)
        stale: str | None = None
        if state.status == "confirmed":
            if opts.replace:
                raise UserInputError(f"nothing to replace: {plan.action} {plan.key!r} is already confirmed")
            confirmed = self._confirmed_on_chain(plan, state, opts)
            if confirmed is not None:
                return confirmed
            # The chain shows neither the journaled transaction nor the operation's effect (a chain
            # reset or reverted under an old journal): the journal line is no evidence; go on as new.
            self.progress("the journal says done but the chain does not show it: checking it as a new operation")
            stale = (state.confirmed or {}).get("tx_hash")
            state = OperationState(plan.scope, plan.key)
        resend_nonce: int | None = None
        if state.status == "inflight":
            settled = self._settle_inflight(plan, op, state, opts)
            if isinstance(settled, OperationResult):
                return settled
            resend_nonce = settled
        elif opts.replace:
            raise UserInputError(
                f"nothing to replace: no transaction of {plan.action} {plan.key!r} is pending",
                hint="--replace speeds up a stuck transaction sent by an earlier run of this command",
            )

        if plan.evidence is not None and (opts.idempotency_key is None or plan.strict_ref):
            found = plan.evidence()
            if found is not None:
                return self._already_on_chain(plan, op, found)

        preview = self._simulate(plan)
        if opts.dry_run:
            return self._result(plan, OperationStatus.DRY_RUN, gas_estimate=preview.gas_estimate,
                                values={"returns": preview.returns} if preview.returns is not None else {},
                                note="; ".join(f"WARNING: {w}" for w in plan.warnings) or None)
        if opts.yes:
            self.progress(preview.text())  # what will be sent, even when nobody is asked
        self._ask(preview, opts)

        sents = self._send(plan, op, preview, resend_nonce, stale=stale)
        return replace(self._finish(plan, op, sents), gas_estimate=preview.gas_estimate)

    # ------------------------------------------------------------------ steps
    def _check_fingerprint(self, plan: Plan, state: OperationState, fingerprint: str) -> None:
        if state.status in ("new", "retryable") or state.fingerprint == fingerprint:
            return  # nothing happened under this key yet, or it is the same operation
        prior = state.op or {}
        shown = ", ".join(f"{k}={v}" for k, v in (prior.get("args") or {}).items())
        raise UserInputError(
            f"idempotency key {plan.key!r} ({plan.scope}) was already used for "
            f"{prior.get('action')}({shown}) by {prior.get('who')}",
            hint="the same ref cannot be used for a different operation; check the ref, or pass "
            "--idempotency-key for a deliberate second operation",
        )

    def _settle_inflight(
        self, plan: Plan, op: Mapping[str, Any], state: OperationState, opts: RunOptions
    ) -> OperationResult | int | None:
        """Settle an earlier run's transaction(s). Returns a result, or the nonce to resend with."""
        w3 = self.sender.w3
        txs = state.inflight
        for tx in reversed(txs):
            if receipt_of(w3, str(tx["hash"])) is not None:
                if opts.dry_run:
                    return self._result(plan, OperationStatus.ALREADY_DONE, tx_hash=str(tx["hash"]), note="mined by an earlier run")
                self.progress(f"resuming: {tx['hash']} of an earlier run was mined")
                return self._finish(plan, op, [_sent_of(tx, self.address)], note="resumed an earlier run")
        known = [tx for tx in txs if node_knows(w3, str(tx["hash"]))]
        if known:
            latest = known[-1]
            if opts.dry_run:
                return self._result(plan, OperationStatus.ALREADY_DONE, tx_hash=str(latest["hash"]),
                                    note="an earlier run's transaction is still pending")
            sents = [_sent_of(tx, self.address) for tx in txs]
            if opts.replace:
                preview = Preview(plan, self.address, None, replacing=str(latest["hash"]))
                self._ask(preview, opts)
                sents.append(self._replace(op, _sent_of(latest, self.address)))
            else:
                self.progress(f"resuming: waiting for {latest['hash']} sent by an earlier run")
            return self._finish(plan, op, sents, note="resumed an earlier run")
        if opts.replace:
            raise UserInputError(
                f"nothing to replace: the node no longer knows {txs[-1]['hash']}",
                hint="re-run without --replace: the operation is resent once",
            )
        nonce = int(txs[-1]["nonce"])
        mined = self.sender.mined_count(self.address)
        if any(receipt_of(w3, str(tx["hash"])) is not None for tx in txs):  # mined meanwhile
            return self._settle_inflight(plan, op, self.journal.state(plan.scope, plan.key), opts)
        if mined > nonce:
            # No receipt while the nonce is used: mined on blocks this node lost, or behind an index
            # that lags, or replaced by another transaction. Only the operation's evidence can tell.
            found = plan.evidence() if plan.evidence is not None else None
            if found is not None:
                return self._already_on_chain(plan, op, found)
            raise ChainError(
                f"{plan.action} {plan.key!r}: {txs[-1]['hash']} (nonce {nonce}) has no receipt and the chain shows "
                f"no evidence of the operation, but nonce {nonce} is used: it may have been done on blocks this "
                "node does not serve; nothing was sent",
                hint=f"wait for the node to catch up and run again, or look {txs[-1]['hash']} up on another node; "
                "to do it again deliberately pass --idempotency-key",
            )
        if opts.dry_run:
            return None
        note = "dropped: the node forgot it and its nonce is unused"
        self.journal.append("dropped", op, tx_hash=str(txs[-1]["hash"]), nonce=nonce, note=note)
        self.progress(f"{txs[-1]['hash']} of an earlier run was {note}; sending again")
        # Resending with the same nonce keeps the two transactions mutually exclusive.
        return nonce

    def _simulate(self, plan: Plan) -> Preview:
        action = plan.action
        sim = self.sender.simulate(plan.call.tx(), action=action)
        handle = next(
            (h for h in self.stack.handles() if h.address == plan.call.target), None
        )
        returns = handle.decode_output(plan.call.function, sim.result) if handle else None
        return Preview(plan, self.address, sim.gas, returns=returns)

    def _ask(self, preview: Preview, opts: RunOptions) -> None:
        if opts.yes:
            return
        if self.confirm is None:
            raise UserInputError(
                f"{preview.plan.action} needs confirmation: nothing was sent",
                hint="pass --yes (yes=True) or give the Operator a confirm callback",
            )
        if not self.confirm(preview):
            raise UserInputError(f"{preview.plan.action} not confirmed: nothing was sent")

    def _send(
        self, plan: Plan, op: Mapping[str, Any], preview: Preview, nonce: int | None, *, stale: str | None = None
    ) -> list[Sent]:
        gas = preview.gas_estimate or 0
        gas = gas * (100 + self.sender.policy.gas_margin_percent) // 100
        with self.journal.locked():
            # Another process may have sent this operation since we looked.
            state = self.journal.state(plan.scope, plan.key)
            if state.status == "inflight" or (
                state.status == "confirmed" and (state.confirmed or {}).get("tx_hash") != stale
            ):
                raise ChainError(
                    f"{plan.action} {plan.key!r} was sent meanwhile by another pkr-pilot process",
                    hint="re-run the same command to follow that transaction",
                )
            signer = self._journaling(op, replaces=None)
            journalled = Sender(self.sender.w3, signer, decoder=self.sender.decoder, policy=self.sender.policy,
                                chain_id=self.sender.chain_id)
            # A refused submission leaves its "sending" line: whether the node kept it or not is
            # settled on the next run (receipt, mempool, nonce), never guessed here.
            try:
                sent = journalled.send(plan.call.tx(), gas=gas, nonce=nonce)
                self.journal.append("sent", op, tx=_journal_tx(sent), tx_hash=sent.tx_hash, nonce=sent.nonce)
            except KeyboardInterrupt:
                if signer.signed:  # the node may have it: live until the chain says otherwise
                    raise SentNotConfirmed(list(signer.signed)) from None
                raise
        self.progress(f"sent {sent.tx_hash} (nonce {sent.nonce})")
        return [sent]

    def _journaling(self, op: Mapping[str, Any], *, replaces: str | None) -> JournalingSigner:
        """The operator's signer, journaling ``sending`` (with the fields to rebroadcast) per signature."""

        def record(tx_hash: str, tx: Mapping[str, Any]) -> None:
            fields = _journal_fields(tx_hash, tx, replaces)
            self.journal.append("sending", op, tx=fields, tx_hash=tx_hash, nonce=int(tx["nonce"]))

        return JournalingSigner(self.sender.signer, record)

    def _replace(self, op: Mapping[str, Any], stuck: Sent) -> Sent:
        with self.journal.locked():
            signer = self._journaling(op, replaces=stuck.tx_hash)
            journalled = Sender(self.sender.w3, signer, decoder=self.sender.decoder, policy=self.sender.policy,
                                chain_id=self.sender.chain_id)
            sent = journalled.replace(stuck)
            self.journal.append(
                "sent", op, tx=_journal_tx(sent, replaces=stuck.tx_hash), tx_hash=sent.tx_hash, nonce=sent.nonce
            )
        self.progress(f"replaced {stuck.tx_hash} with {sent.tx_hash} (nonce {sent.nonce}, higher fees)")
        return sent

    def _finish(
        self, plan: Plan, op: Mapping[str, Any], sents: Sequence[Sent], *, note: str | None = None
    ) -> OperationResult:
        try:
            receipt = self._await(plan, sents)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the transaction is live, say so
            raise SentNotConfirmed([s.tx_hash for s in sents]) from None
        except TransactionFailed as exc:
            self.journal.append("failed", op, tx_hash=str(exc.args_by_name.get("tx", sents[-1].tx_hash)),
                                nonce=sents[-1].nonce, error=exc.signature_text)
            raise
        except TransactionDropped as exc:
            self.journal.append("dropped", op, tx_hash=exc.tx_hash, nonce=sents[-1].nonce,
                                note="dropped while waiting")
            raise
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        block = int(receipt["blockNumber"])
        supply = self.stack.token.total_supply(block=block)
        events = [e for h in self.stack.handles() for e in h.decode_receipt(receipt)]
        events.sort(key=lambda e: e.log_index)
        values = dict(plan.values_from_events(events)) if plan.values_from_events else {}
        nonce = next((s.nonce for s in sents if s.tx_hash == tx_hash), sents[-1].nonce)
        self.journal.append(
            "confirmed", op, tx_hash=tx_hash, nonce=nonce, block=block,
            gas_used=int(receipt["gasUsed"]), supply_after=str(supply),
            events=[_event_text(e) for e in events], values={k: _jsonable(v) for k, v in values.items()} or None,
            note=note,
        )
        return self._result(
            plan, OperationStatus.CONFIRMED, tx_hash=tx_hash, nonce=nonce, block=block,
            gas_used=int(receipt["gasUsed"]), supply_after=supply,
            events=tuple(_event_text(e) for e in events), values=values, note=note,
        )

    def _await(self, plan: Plan, sents: Sequence[Sent]) -> TxReceipt:
        """Wait until one of ``sents`` (same nonce) is mined, then for the confirmations
        (:meth:`Sender.wait`: dropped, undecided and gap handling, the time left said as it waits)."""
        return self.sender.wait(sents, action=plan.action, progress=self.progress)

    # ------------------------------------------------------------------ results
    def _op_record(self, plan: Plan, fingerprint: str, chain_id: int) -> dict[str, Any]:
        return {
            "action": plan.action,
            "scope": plan.scope,
            "key": plan.key,
            "fingerprint": fingerprint,
            "who": self.address,
            "network": self.network,
            "chain_id": chain_id,
            "contract": plan.call.contract,
            "address": plan.call.target,
            "function": plan.call.signature,
            "args": dict(plan.args),
            "ref": None if plan.ref is None else "0x" + plan.ref.hex(),
            "ref_text": plan.ref_text,
        }

    def _result(self, plan: Plan, status: OperationStatus, **fields: Any) -> OperationResult:
        return OperationResult(
            action=plan.action,
            status=status,
            key=plan.key,
            sender=self.address,
            call=plan.call.describe(),
            display=dict(plan.display),
            args=dict(plan.args),
            ref=None if plan.ref is None else "0x" + plan.ref.hex(),
            ref_text=plan.ref_text,
            **fields,
        )

    def _confirmed_on_chain(self, plan: Plan, state: OperationState, opts: RunOptions) -> OperationResult | None:
        """A journal-confirmed operation, checked on chain: its evidence, or its transaction's receipt.

        Returns None when the chain shows neither and the journaled nonce is free (the chain was reset or
        reverted): not done. Raises when the nonce is used but the chain shows nothing (undecided).
        """
        if plan.evidence is not None and (opts.idempotency_key is None or plan.strict_ref):
            found = plan.evidence()
            if found is not None:  # the journal's line is the cache of what it returned
                return self._from_journal(plan, state, f"already done on chain: {found.detail}")
        line = state.confirmed or {}
        tx_hash = line.get("tx_hash")
        receipt = receipt_of(self.sender.w3, str(tx_hash)) if tx_hash else None
        if receipt is not None and int(receipt["status"]) == 1:
            return self._from_journal(plan, state, f"already done on chain: {tx_hash} is mined")
        nonce = line.get("nonce")
        if isinstance(nonce, int) and self.sender.mined_count(self.address) > nonce:
            raise ChainError(
                f"{plan.action} {plan.key!r} is journaled as confirmed in {tx_hash}, but this node shows neither "
                f"its receipt nor the operation's effect, and nonce {nonce} is used; nothing was sent",
                hint=f"check the --network, wait for the node to catch up, or look {tx_hash} up on another node",
            )
        return None

    def _from_journal(self, plan: Plan, state: OperationState, note: str) -> OperationResult:
        line = state.confirmed or {}
        supply = line.get("supply_after")
        return self._result(
            plan, OperationStatus.ALREADY_DONE,
            tx_hash=line.get("tx_hash"), nonce=line.get("nonce"), block=line.get("block"),
            gas_used=line.get("gas_used"), supply_after=None if supply is None else int(supply),
            events=tuple(line.get("events") or ()), values=dict(line.get("values") or {}),
            note=f"{note}: confirmed at {line.get('time')}",
        )

    def _already_on_chain(self, plan: Plan, op: Mapping[str, Any], found: Evidence) -> OperationResult:
        if found.tx_hash is not None:
            self.journal.append(
                "confirmed", op, tx_hash=found.tx_hash, block=found.block,
                values={k: _jsonable(v) for k, v in found.values.items()} or None,
                note=f"found on chain: {found.detail}",
            )
        return self._result(
            plan, OperationStatus.ALREADY_DONE, tx_hash=found.tx_hash, block=found.block, values=dict(found.values),
            note=f"already done on chain: {found.detail}",
        )


def _journal_fields(tx_hash: str, tx: Mapping[str, Any], replaces: str | None = None) -> dict[str, Any]:
    fields = {"hash": tx_hash, **tx_fields(tx)}
    if replaces:
        fields["replaces"] = replaces
    return fields


def _journal_tx(sent: Sent, *, replaces: str | None = None) -> dict[str, Any]:
    return _journal_fields(sent.tx_hash, sent.tx, replaces)


def _sent_of(tx: Mapping[str, Any], sender: str) -> Sent:
    fields = tx_from_fields({k: v for k, v in tx.items() if k != "replaces"})
    return Sent(tx_hash=str(tx["hash"]), nonce=int(tx["nonce"]), sender=sender, tx=fields)


def _event_text(event: DecodedEvent) -> str:
    args = ", ".join(f"{k}={plain(v)}" for k, v in event.args.items())
    return f"{event.name}({args})"


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
