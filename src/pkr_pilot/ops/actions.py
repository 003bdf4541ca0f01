"""One function per operator action. Each validates its input, builds a :class:`~pkr_pilot.ops.flow.Plan`
and runs it through :meth:`Operator.run <pkr_pilot.ops.flow.Operator.run>` (the one flow).

Amounts are human strings in token units (``"1,250.50"``), exact ``Decimal`` or ``int`` base units;
floats are refused. Addresses must carry a valid checksum when mixed-case. Every privileged operation
needs a ``ref`` (bank transfer id, case number, report hash): on chain where the contract takes one, and
always in the operations journal, where it is the idempotency key.

::

    result = mint(operator, "0xRecipient…", "1,250.50", ref="BANK-TX-0042", options=RunOptions(yes=True))
    result.status, result.supply_after        # ('confirmed', 125050) on a fresh token
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..amounts import format_amount, parse_address, parse_amount, parse_ref
from ..contracts import (
    DESK_ROLES,
    TIMELOCK_ROLES,
    TOKEN_ROLES,
    UNLIMITED,
    Call,
    ContractHandle,
    DecodedEvent,
    Desk,
    canonical_role,
    role_id,
)
from ..errors import UserInputError
from .flow import Evidence, OperationResult, Operator, Plan, RunOptions
from .views import ref_text as _ref_text

if TYPE_CHECKING:
    from ..contracts import Token

__all__ = [
    "ACTION_ROLES",
    "allowlist",
    "attest_reserves",
    "burn",
    "configure_minter",
    "freeze",
    "freeze_amount",
    "grant_role",
    "limits",
    "mint",
    "mint_approve",
    "mint_cancel",
    "mint_execute",
    "mint_request",
    "pause",
    "remove_minter",
    "revoke_role",
    "seize",
    "set_exempt",
    "set_tier",
    "set_tier_limits",
    "timelock_execute",
    "timelock_schedule",
    "transfer",
    "unfreeze",
    "unfreeze_amount",
    "unpause",
]

#: The account role (key of the network config's ``accounts`` table) each action signs with by default.
ACTION_ROLES: Mapping[str, str] = {
    "mint": "minter",
    "burn": "burner",
    "transfer": "treasury",
    "freeze": "freezer",
    "unfreeze": "freezer",
    "freeze-amount": "freezer",
    "unfreeze-amount": "freezer",
    "seize": "seizer",
    "pause": "pauser",
    "unpause": "unpauser",
    "minter-configure": "minter_admin",
    "minter-remove": "minter_admin",
    "roles-grant": "admin",
    "roles-revoke": "admin",
    "reserves-attest": "attestor",
    "mint-request": "maker",
    "mint-approve": "checker",
    "mint-execute": "maker",
    "mint-cancel": "maker",
    "tier-set": "kyc",
    "tier-limits": "admin",
    "tier-exempt": "admin",
    "allowlist": "admin",
    "limits": "admin",
    "timelock-schedule": "proposer",
    "timelock-execute": "executor",
}

AmountInput = str | int | Decimal


# =========================================================================== token operations


def mint(op: Operator, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Mint ``amount`` to ``to`` under ``ref`` (the bank transfer id), as a configured minter.

    A ref mints once: the journal and the chain's ``Minted`` events are checked before sending, and a
    ref already minted (with any amount, by any minter, directly or through the desk) is refused.
    """
    token = op.stack.token
    to_addr = _address(to, "recipient")
    units = _amount(amount, token, what="amount")
    ref_bytes, ref_text = _ref(ref)
    call = token.mint(to_addr, units, ref_bytes)
    return op.run(
        _plan(
            "mint", call, scope="mint", ref=(ref_bytes, ref_text),
            display={"to": to_addr, "amount": _fmt(units, token), "ref": ref_text},
            args={"to": to_addr, "amount": str(units)},
            evidence=lambda: _minted_evidence(token, ref_bytes, to_addr, units),
            strict_ref=True,
        ),
        options,
    )


def burn(op: Operator, amount: AmountInput, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Burn ``amount`` from the signer's own balance (a redemption), as a minter or ``BURNER_ROLE``."""
    units = _amount(amount, op.stack.token, what="amount")
    return _token_action(op, "burn", ref, options, lambda t, r: t.burn(units, r),
                         display={"amount": _fmt(units, op.stack.token)}, args={"amount": str(units)},
                         event="Burned", match={"burner": op.address, "amount": units})


def transfer(op: Operator, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Transfer ``amount`` from the signer to ``to`` with its ref on chain (``transferWithReference``).

    Done already when the chain shows ``PaymentReference(signer, ref)`` with the ``Transfer`` before it;
    the same ref paid to another address or amount is refused.
    """
    to_addr = _address(to, "recipient")
    units = _amount(amount, op.stack.token, what="amount")
    who = op.address
    return _token_action(op, "transfer", ref, options,
                         lambda t, r: t.build("transferWithReference", to_addr, units, r),
                         display={"to": to_addr, "amount": _fmt(units, op.stack.token)},
                         args={"to": to_addr, "amount": str(units)}, warnings=_system_recipient(op.stack, to_addr),
                         evidence_of=lambda t, r: _payment_evidence(t, who, r, to_addr, units))


def _payment_evidence(token: Token, payer: str, ref: bytes, to: str, amount: int) -> Evidence | None:
    """``PaymentReference(payer, ref)`` and the ``Transfer`` before it: the same payment, or a conflict."""
    from ..evidence import PAYMENT_REFERENCE_TOPIC, TRANSFER_TOPIC, payments_in_logs

    payer_topic = "0x" + (bytes(12) + bytes.fromhex(payer[2:])).hex()
    for ev in token.find_events("PaymentReference", {"from": payer, "ref": ref}):
        # The payer's Transfer and PaymentReference logs of that block (logs, not the receipt: a node
        # may serve the one and not the other).
        query: Any = {
            "address": token.address, "fromBlock": ev.block_number, "toBlock": ev.block_number,
            "topics": [["0x" + TRANSFER_TOPIC.hex(), "0x" + PAYMENT_REFERENCE_TOPIC.hex()], payer_topic],
        }
        raw = token.w3.eth.get_logs(query)
        logs = [_log_json(log) for log in raw]
        for paid in payments_in_logs(logs, token.address, payer):
            if paid.ref != ref:
                continue
            detail = (f"{format_amount(paid.value, decimals=token.decimals)} {token.symbol} paid to {paid.to} "
                      f"with ref {_ref_text(ref)!r} in {ev.tx_hash} (block {ev.block_number})")
            if paid.to.lower() != to.lower() or paid.value != amount:
                raise UserInputError(f"ref {_ref_text(ref)!r} was already used by {payer}: {detail}",
                                     hint="a payment ref is used once; check the ref, the recipient and the amount")
            return Evidence(detail, tx_hash=ev.tx_hash, block=ev.block_number)
    return None


def _log_json(log: Mapping[str, Any]) -> dict[str, Any]:
    """A web3 log as the JSON-RPC answer has it (hex strings)."""
    def hexed(value: Any) -> Any:
        return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else value
    return {
        "address": log["address"],
        "topics": [hexed(t) for t in log["topics"]],
        "data": hexed(log["data"]),
        "transactionHash": hexed(log["transactionHash"]),
        "logIndex": int(log["logIndex"]),
        "blockNumber": int(log["blockNumber"]),
    }


def _system_recipient(stack: Any, to: str) -> tuple[str, ...]:
    """A warning when ``to`` is one of the stack's own contracts (tokens sent there are stuck)."""
    for handle in stack.handles():
        if handle.address == to:
            what = "the token contract itself" if handle is stack.token else f"the {handle.name} contract"
            return (f"{to} is {what}: tokens sent there can only be recovered by a rescue",)
    return ()


def freeze(op: Operator, account: str, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Fully freeze ``account`` (compliance alert): it can neither send nor receive."""
    addr = _address(account, "account")
    return _token_action(op, "freeze", ref, options, lambda t, r: t.freeze(addr, r),
                         display={"account": addr}, args={"account": addr}, event="Frozen", match={"account": addr})


def unfreeze(op: Operator, account: str, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Lift the full freeze of ``account`` (a partial freeze stays)."""
    addr = _address(account, "account")
    return _token_action(op, "unfreeze", ref, options, lambda t, r: t.unfreeze(addr, r),
                         display={"account": addr}, args={"account": addr}, event="Unfrozen", match={"account": addr})


def freeze_amount(
    op: Operator, account: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Freeze ``amount`` more of ``account``'s balance (may exceed the balance: pre-emptive)."""
    return _partial_freeze(op, "freeze-amount", "AmountFrozen", account, amount, ref, options)


def unfreeze_amount(
    op: Operator, account: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Release ``amount`` of ``account``'s frozen amount."""
    return _partial_freeze(op, "unfreeze-amount", "AmountUnfrozen", account, amount, ref, options)


def _partial_freeze(
    op: Operator, action: str, event: str, account: str, amount: AmountInput, ref: str, options: RunOptions | None
) -> OperationResult:
    addr = _address(account, "account")
    units = _amount(amount, op.stack.token, what="amount")
    return _token_action(op, action, ref, options,
                         lambda t, r: (t.freeze_amount if event == "AmountFrozen" else t.unfreeze_amount)(addr, units, r),
                         display={"account": addr, "amount": _fmt(units, op.stack.token)},
                         args={"account": addr, "amount": str(units)},
                         event=event, match={"account": addr, "amount": units})


def seize(
    op: Operator, source: str, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Move ``amount`` of frozen funds from ``source`` to ``to`` (court order ``ref``)."""
    src = _address(source, "source account")
    dst = _address(to, "recipient")
    if src == dst:
        raise UserInputError("seize: the source and the recipient are the same account")
    units = _amount(amount, op.stack.token, what="amount")
    return _token_action(op, "seize", ref, options, lambda t, r: t.seize(src, dst, units, r),
                         display={"from": src, "to": dst, "amount": _fmt(units, op.stack.token)},
                         args={"from": src, "to": dst, "amount": str(units)},
                         event="Seized", match={"from": src, "to": dst, "amount": units})


def pause(op: Operator, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Pause transfers, mints and burns (freeze and seize still work); already paused counts as done."""
    return _token_action(op, "pause", ref, options, lambda t, _r: t.pause(), display={}, args={},
                         evidence_of=lambda t, _r: _pause_state(t, paused=True))


def unpause(op: Operator, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Resume normal operation (``UNPAUSER_ROLE``; behind a timelock use :func:`timelock_schedule`)."""
    return _token_action(op, "unpause", ref, options, lambda t, _r: t.unpause(), display={}, args={},
                         evidence_of=lambda t, _r: _pause_state(t, paused=False))


def _pause_state(token: Token, *, paused: bool) -> Evidence | None:
    """The chain's state already is what pause (or unpause) leads to: nothing to send."""
    if token.paused() == paused:
        return Evidence(f"the token is already {'paused' if paused else 'not paused'}")
    return None


def configure_minter(
    op: Operator, minter: str, allowance: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Configure ``minter`` with a minting ``allowance`` (replaces the previous allowance)."""
    addr = _address(minter, "minter")
    units = _amount(allowance, op.stack.token, what="allowance", allow_zero=True)
    return _token_action(op, "minter-configure", ref, options, lambda t, r: t.configure_minter(addr, units, r),
                         display={"minter": addr, "allowance": _fmt(units, op.stack.token)},
                         args={"minter": addr, "allowance": str(units)},
                         event="MinterConfigured", match={"minter": addr, "allowance": units})


def remove_minter(op: Operator, minter: str, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Remove ``minter``: it can no longer mint or burn as a minter."""
    addr = _address(minter, "minter")
    return _token_action(op, "minter-remove", ref, options, lambda t, r: t.remove_minter(addr, r),
                         display={"minter": addr}, args={"minter": addr}, event="MinterRemoved", match={"minter": addr})


def grant_role(
    op: Operator, role: str, account: str, *, ref: str, contract: str | None = None,
    options: RunOptions | None = None,
) -> OperationResult:
    """Grant ``role`` (``FREEZER_ROLE``, ``freezer``, ``MAKER_ROLE`` …) to ``account``.

    ``contract`` is ``token``, ``desk`` or ``timelock``; by default the contract that defines the role.
    Already holding the role counts as done (nothing is sent).
    """
    return _role_change(op, "grant", role, account, ref=ref, contract=contract, options=options)


def revoke_role(
    op: Operator, role: str, account: str, *, ref: str, contract: str | None = None,
    options: RunOptions | None = None,
) -> OperationResult:
    """Revoke ``role`` from ``account`` (not holding it counts as done)."""
    return _role_change(op, "revoke", role, account, ref=ref, contract=contract, options=options)


def attest_reserves(
    op: Operator, amount: AmountInput, *, as_of: int | str | None = None, report: str,
    options: RunOptions | None = None,
) -> OperationResult:
    """Record reserves of ``amount`` held as of ``as_of`` (unix seconds or ISO 8601 with a zone).

    ``as_of`` ``None`` or ``"now"`` is the latest block's time (the contract refuses a later one;
    a node's block time often lags the wall clock).

    ``report`` is the report's hash (``0x`` + 64 hex) or id (≤ 32 bytes): it is the on-chain
    ``reportHash`` and the idempotency key.
    """
    from ..human import percent

    token = op.stack.token
    units = _amount(amount, token, what="reserves", allow_zero=True)
    ref_bytes, ref_text = _ref(report)
    notes: list[str] = []
    if as_of is None or (isinstance(as_of, str) and as_of.strip().lower() == "now"):
        # The contract refuses an as-of after its block's time, and a node's latest block often lags the
        # wall clock (anvil mines on demand): "now" is the latest block's time, said so when it lags.
        when = int(op.stack.w3.eth.get_block("latest")["timestamp"])
        lag = int(_dt.datetime.now(_dt.UTC).timestamp()) - when
        as_of_text = f"{_iso(when)} (now: the latest block's time" + (f", {lag} s behind the clock)" if lag > 1 else ")")
    else:
        when = parse_timestamp(as_of)
        as_of_text = _iso(when)
    supply = token.total_supply()
    if units < supply:
        notes.append(
            f"the supply {_fmt(supply, token)} stays above these reserves {_fmt(units, token)} "
            f"(collateralisation {percent(units, supply)}): minting stops until reserves cover the supply"
        )
    return op.run(
        _plan(
            "reserves-attest", token.attest_reserves(units, when, ref_bytes), scope="reserves-attest",
            ref=(ref_bytes, ref_text),
            display={"amount": _fmt(units, token), "as_of": as_of_text, "report": ref_text},
            args={"amount": str(units), "as_of": str(when)},
            evidence=lambda: _event_evidence(
                token, "ReservesAttested", ref_bytes, {"amount": units, "asOf": when}, ref_field="reportHash"
            ),
            warnings=notes,
        ),
        options,
    )


# =========================================================================== regulator controls


def mint_request(
    op: Operator, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """File a maker-checker mint request on the desk; ``result.values["request_id"]`` is its id.

    Shares the ``mint`` idempotency scope with :func:`mint`: a ref is minted once, whichever way.
    """
    desk = op.stack.require_desk()
    token = op.stack.token
    to_addr = _address(to, "recipient")
    units = _amount(amount, token, what="amount")
    ref_bytes, ref_text = _ref(ref)

    def evidence() -> Evidence | None:
        holder = desk.ref_holder(ref_bytes)
        if holder == 0:
            direct = _minted_evidence(token, ref_bytes, None, None)
            if direct is not None:
                raise UserInputError(
                    f"ref {ref_text!r} was already minted: {direct.detail}",
                    hint="a bank transfer is minted once; check the ref",
                )
            return None
        if holder == 2**256 - 1:
            raise UserInputError(f"ref {ref_text!r} was already used by a direct desk operation")
        req = desk.request(holder)
        if req.kind == "Mint" and req.to == to_addr and req.amount == units:
            ev = _last(desk.find_events("MintRequested", {"id": holder}))
            return Evidence(
                f"request {holder} ({req.status.lower()})",
                tx_hash=None if ev is None else ev.tx_hash,
                block=None if ev is None else ev.block_number,
                values={"request_id": holder},
            )
        raise UserInputError(
            f"ref {ref_text!r} is held by desk request {holder} "
            f"({req.kind.lower()} of {_fmt(req.amount, token)} to {req.to}, {req.status.lower()})",
            hint="a bank transfer is minted once; check the ref",
        )

    return op.run(
        _plan(
            "mint-request", desk.request_mint(to_addr, units, ref_bytes), scope="mint",
            ref=(ref_bytes, ref_text),
            display={"to": to_addr, "amount": _fmt(units, token), "ref": ref_text},
            args={"to": to_addr, "amount": str(units)},
            evidence=evidence, strict_ref=True,
            values=_values_from("MintRequested", {"request_id": "id", "expires_at": "expiresAt",
                                                  "required_approvals": "requiredApprovals"}),
        ),
        options,
    )


def mint_approve(op: Operator, request_id: int | str, *, options: RunOptions | None = None) -> OperationResult:
    """Approve desk mint request ``request_id`` as a checker (never its maker)."""
    desk = op.stack.require_desk()
    rid = _request_id(request_id)
    req = desk.request(rid)
    checker = op.address

    def evidence() -> Evidence | None:
        if not desk.has_approved(rid, checker):
            return None
        ev = _last(desk.find_events("MintApproved", {"id": rid, "checker": checker}))
        return Evidence(f"request {rid} already approved by {checker}",
                        tx_hash=None if ev is None else ev.tx_hash, block=None if ev is None else ev.block_number)

    return op.run(
        _plan(
            "mint-approve", desk.approve_mint(rid), scope="mint-approve", key=f"{rid}:{checker}",
            ref=(req.ref, _ref_text(req.ref)),
            display=_request_display(req, op.stack.token), args={"id": str(rid)},
            evidence=evidence,
            values=_values_from("MintApproved", {"approvals": "approvals", "required_approvals": "requiredApprovals"}),
        ),
        options,
    )


def mint_execute(op: Operator, request_id: int | str, *, options: RunOptions | None = None) -> OperationResult:
    """Execute approved desk mint request ``request_id`` (the desk mints on the token)."""
    desk = op.stack.require_desk()
    rid = _request_id(request_id)
    req = desk.request(rid)

    return op.run(
        _plan(
            "mint-execute", desk.execute_mint(rid), scope="mint-execute", key=str(rid),
            ref=(req.ref, _ref_text(req.ref)),
            display=_request_display(req, op.stack.token), args={"id": str(rid)},
            evidence=_request_reached(desk, rid, "Executed", "MintExecuted", "executed"),
        ),
        options,
    )


def mint_cancel(op: Operator, request_id: int | str, *, options: RunOptions | None = None) -> OperationResult:
    """Cancel pending desk mint request ``request_id`` (its maker or the desk admin); frees its ref."""
    desk = op.stack.require_desk()
    rid = _request_id(request_id)
    req = desk.request(rid)

    return op.run(
        _plan(
            "mint-cancel", desk.cancel_mint(rid), scope="mint-cancel", key=str(rid),
            ref=(req.ref, _ref_text(req.ref)),
            display=_request_display(req, op.stack.token), args={"id": str(rid)},
            evidence=_request_reached(desk, rid, "Cancelled", "MintCancelled", "cancelled"),
        ),
        options,
    )


def _request_reached(desk: Desk, rid: int, status: str, event: str, word: str) -> Callable[[], Evidence | None]:
    """Evidence that desk request ``rid`` already has ``status``, citing its ``event`` if found."""

    def evidence() -> Evidence | None:
        if desk.request(rid).status != status:
            return None
        ev = _last(desk.find_events(event, {"id": rid}))
        return Evidence(f"request {rid} {word}", tx_hash=None if ev is None else ev.tx_hash,
                        block=None if ev is None else ev.block_number)

    return evidence


def set_tier(
    op: Operator, account: str, tier: int | str, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Put ``account`` in wallet ``tier`` (0 = unverified), as ``KYC_ROLE``."""
    addr = _address(account, "account")
    level = _tier(tier)
    return _token_action(op, "tier-set", ref, options, lambda t, r: t.set_tier(addr, level, r),
                         display={"account": addr, "tier": str(level)}, args={"account": addr, "tier": str(level)},
                         event="TierSet", match={"account": addr, "tier": level})


def set_tier_limits(
    op: Operator, tier: int | str, *, max_balance: AmountInput, max_daily_outflow: AmountInput, ref: str,
    options: RunOptions | None = None,
) -> OperationResult:
    """Set ``tier``'s maximum balance and daily outflow (``"unlimited"`` for no limit)."""
    token = op.stack.token
    level = _tier(tier)
    balance = _limit(max_balance, token, "max balance")
    outflow = _limit(max_daily_outflow, token, "max daily outflow")
    return _token_action(
        op, "tier-limits", ref, options, lambda t, r: t.set_tier_limits(level, balance, outflow, r),
        display={"tier": str(level), "max_balance": _fmt_limit(balance, token),
                 "max_daily_outflow": _fmt_limit(outflow, token)},
        args={"tier": str(level), "max_balance": str(balance), "max_daily_outflow": str(outflow)},
        event="TierLimitsSet",
        match={"tier": level, "maxBalance": min(balance, UNLIMITED), "maxDailyOutflow": min(outflow, UNLIMITED)},
    )


def set_exempt(
    op: Operator, account: str, exempt: bool, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Exempt ``account`` (a desk, the redemption address) from tier limits and allowlist mode, or not."""
    addr = _address(account, "account")
    return _token_action(op, "tier-exempt", ref, options, lambda t, r: t.set_exempt(addr, exempt, r),
                         display={"account": addr, "exempt": "yes" if exempt else "no"},
                         args={"account": addr, "exempt": str(exempt).lower()},
                         event="ExemptionSet", match={"account": addr, "exempt": exempt})


def allowlist(op: Operator, enabled: bool, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Switch allowlist mode on (only tier > 0 or exempt accounts may receive) or off."""
    return _token_action(op, "allowlist", ref, options, lambda t, r: t.set_allowlist_mode(enabled, r),
                         display={"mode": "on" if enabled else "off"}, args={"enabled": str(enabled).lower()},
                         event="AllowlistModeSet", match={"enabled": enabled})


def limits(op: Operator, enabled: bool, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Switch tier limit enforcement on or off."""
    return _token_action(op, "limits", ref, options, lambda t, r: t.set_limits_mode(enabled, r),
                         display={"mode": "on" if enabled else "off"}, args={"enabled": str(enabled).lower()},
                         event="LimitsModeSet", match={"enabled": enabled})


def _token_action(
    op: Operator,
    action: str,
    ref: str,
    options: RunOptions | None,
    build: Callable[[Token, bytes], Call],
    *,
    display: Mapping[str, str],
    args: Mapping[str, str],
    event: str | None = None,
    match: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
    evidence_of: Callable[[Token, bytes], Evidence | None] | None = None,
) -> OperationResult:
    """The shape of a token action: the call built with the ref, shown and journalled, and (with
    ``event``) the chain asked first for an ``event`` carrying the ref whose arguments equal ``match``
    (or, with ``evidence_of``, for whatever that finds: a payment by its ref, a state already reached)."""
    token = op.stack.token
    ref_bytes, ref_text = _ref(ref)

    def evidence() -> Evidence | None:
        if evidence_of is not None:
            return evidence_of(token, ref_bytes)
        return _event_evidence(token, event, ref_bytes, match or {}) if event is not None else None

    return op.run(
        _plan(
            action, build(token, ref_bytes), scope=action, ref=(ref_bytes, ref_text),
            display={**display, "ref": ref_text}, args=args,
            evidence=evidence if event is not None or evidence_of is not None else None, warnings=warnings,
        ),
        options,
    )


def governed_call(op: Operator, what: str, *, implementation: str | None = None, data: str | bytes = b"") -> Call:
    """The token call a timelock operation carries: ``upgrade`` (``upgradeToAndCall``) or ``unpause``."""
    token = op.stack.token
    if what == "unpause":
        if implementation is not None:
            raise UserInputError("--implementation is only for an upgrade")
        return token.unpause()
    if what == "upgrade":
        if implementation is None:
            raise UserInputError("an upgrade needs --implementation ADDRESS")
        impl = _address(implementation, "implementation")
        if not bytes(op.stack.w3.eth.get_code(impl)):  # type: ignore[arg-type]
            raise UserInputError(
                f"there is no contract at implementation address {impl}",
                hint="deploy the new implementation first (pkr-pilot deploy --upgrade records it)",
            )
        return token.upgrade_to_and_call(impl, _hex_bytes(data, "--data"))
    raise UserInputError(f"unknown timelock operation {what!r}", hint="use upgrade or unpause")


def timelock_schedule(
    op: Operator, what: str, *, ref: str, implementation: str | None = None, data: str | bytes = b"",
    delay: int | None = None, options: RunOptions | None = None,
) -> OperationResult:
    """Schedule ``upgrade`` or ``unpause`` of the token through the timelock (as a proposer).

    The ref is the operation's salt, so the same ref always names the same operation. ``delay``
    defaults to the timelock's minimum delay. ``result.values["ready_at"]`` is when it can execute.
    """
    timelock = op.stack.require_timelock()
    inner = governed_call(op, what, implementation=implementation, data=data)
    ref_bytes, ref_text = _ref(ref)
    wait = timelock.min_delay() if delay is None else _non_negative_int(delay, "delay")
    op_id = timelock.operation_id(inner.target, inner.value, inner.data, bytes(32), ref_bytes)

    def evidence() -> Evidence | None:
        state = timelock.operation_state(op_id)
        if state == "Unset":
            return None
        ev = _last(timelock.find_events("CallScheduled", {"id": op_id}))
        return Evidence(f"operation 0x{op_id.hex()} is already scheduled ({state.lower()})",
                        tx_hash=None if ev is None else ev.tx_hash, block=None if ev is None else ev.block_number)

    def values(events: Sequence[DecodedEvent]) -> Mapping[str, Any]:
        return {"operation_id": "0x" + op_id.hex(), "ready_at": timelock.ready_at(op_id)}

    display = {"operation": what, **_inner_display(inner), "delay": f"{wait} s", "ref": ref_text}
    return op.run(
        _plan(
            "timelock-schedule", timelock.schedule(inner, salt=ref_bytes, delay=wait), scope="timelock-schedule",
            ref=(ref_bytes, ref_text), display=display,
            args={"operation": what, "target": inner.target, "data": "0x" + inner.data.hex(), "delay": str(wait)},
            evidence=evidence, values=values,
        ),
        options,
    )


def timelock_execute(
    op: Operator, what: str, *, ref: str, implementation: str | None = None, data: str | bytes = b"",
    options: RunOptions | None = None,
) -> OperationResult:
    """Execute a scheduled ``upgrade`` or ``unpause`` once its delay has passed (as an executor)."""
    timelock = op.stack.require_timelock()
    inner = governed_call(op, what, implementation=implementation, data=data)
    ref_bytes, ref_text = _ref(ref)
    op_id = timelock.operation_id(inner.target, inner.value, inner.data, bytes(32), ref_bytes)
    state = timelock.operation_state(op_id)
    if state == "Unset":
        raise UserInputError(
            f"timelock operation {what} with ref {ref_text!r} was never scheduled (or was cancelled)",
            hint="run `pkr-pilot timelock schedule` with the same operation and ref first",
        )
    if state == "Waiting":
        ready = timelock.ready_at(op_id)
        now = int(op.stack.w3.eth.get_block("latest")["timestamp"])
        raise UserInputError(
            f"timelock operation {what} ({ref_text!r}) is not ready until {_iso(ready)} "
            f"({ready - now} s from now)",
            hint="re-run this command after that time",
        )

    def evidence() -> Evidence | None:
        if timelock.operation_state(op_id) != "Done":
            return None
        ev = _last(timelock.find_events("CallExecuted", {"id": op_id}))
        return Evidence(f"operation 0x{op_id.hex()} already executed",
                        tx_hash=None if ev is None else ev.tx_hash, block=None if ev is None else ev.block_number)

    return op.run(
        _plan(
            "timelock-execute", timelock.execute(inner, salt=ref_bytes), scope="timelock-execute",
            ref=(ref_bytes, ref_text),
            display={"operation": what, **_inner_display(inner), "ref": ref_text},
            args={"operation": what, "target": inner.target, "data": "0x" + inner.data.hex()},
            evidence=evidence,
            values=lambda _events: {"operation_id": "0x" + op_id.hex()},
        ),
        options,
    )


# =========================================================================== shared pieces


def _plan(
    action: str,
    call: Call,
    *,
    scope: str,
    display: Mapping[str, str],
    args: Mapping[str, str],
    ref: tuple[bytes, str],
    key: str | None = None,
    evidence: Callable[[], Evidence | None] | None = None,
    strict_ref: bool = False,
    values: Callable[[Sequence[DecodedEvent]], Mapping[str, Any]] | None = None,
    warnings: Sequence[str] = (),
) -> Plan:
    ref_bytes, ref_text = ref
    return Plan(
        action=action,
        call=call,
        display=display,
        args=args,
        key=key if key is not None else "0x" + ref_bytes.hex(),
        scope=scope,
        ref=ref_bytes,
        ref_text=ref_text,
        evidence=evidence,
        strict_ref=strict_ref,
        values_from_events=values,
        warnings=tuple(warnings),
    )


def _role_change(
    op: Operator, verb: str, role: str, account: str, *, ref: str, contract: str | None,
    options: RunOptions | None,
) -> OperationResult:
    handle, role_bytes, name = _resolve_role(op, role, contract)
    addr = _address(account, "account")
    ref_bytes, ref_text = _ref(ref)
    call = handle.grant_role(role_bytes, addr) if verb == "grant" else handle.revoke_role(role_bytes, addr)

    def evidence() -> Evidence | None:
        holds = handle.has_role(role_bytes, addr)
        if holds == (verb == "grant"):
            return Evidence(f"{addr} {'already holds' if holds else 'does not hold'} {name} on {handle.name}")
        return None

    return op.run(
        _plan(
            f"roles-{verb}", call, scope=f"roles-{verb}", ref=(ref_bytes, ref_text),
            display={"role": name, "account": addr, "contract": handle.name, "ref": ref_text},
            args={"role": name, "account": addr, "contract": handle.address},
            evidence=evidence,
        ),
        options,
    )


def _resolve_role(op: Operator, role: str, contract: str | None) -> tuple[ContractHandle, bytes, str]:
    if not role or not role.strip():
        raise UserInputError("a role name is required", hint=f"one of: {', '.join(TOKEN_ROLES + DESK_ROLES[1:])}")
    stack = op.stack
    handles: dict[str, tuple[ContractHandle | None, tuple[str, ...]]] = {
        "token": (stack.token, TOKEN_ROLES),
        "desk": (stack.desk, DESK_ROLES),
        "timelock": (stack.timelock, TIMELOCK_ROLES),
    }
    raw = role.strip()
    if raw.startswith("0x"):
        if len(raw) != 66:
            raise UserInputError(f"role {role!r} is not a role name or a 0x + 64 hex digit id")
        name = raw
        role_bytes = bytes.fromhex(raw[2:])
        default = "token"
    else:
        name = canonical_role(raw)
        default = next((c for c, (_, names) in handles.items() if name in names), "")
        if not default:
            known = sorted(set(TOKEN_ROLES + DESK_ROLES + TIMELOCK_ROLES))
            raise UserInputError(f"unknown role {role!r}", hint=f"one of: {', '.join(known)}")
        role_bytes = role_id(name)
    where = (contract or default).lower()
    if where not in handles:
        raise UserInputError(f"unknown contract {contract!r}", hint="use token, desk or timelock")
    handle, names = handles[where]
    if handle is None:
        raise UserInputError(f"this deployment has no {where}")
    if not raw.startswith("0x") and name not in names:
        raise UserInputError(f"{name} is not a role of the {where}", hint=f"its roles: {', '.join(names)}")
    return handle, role_bytes, name


def _minted_evidence(token: Token, ref: bytes, to: str | None, amount: int | None) -> Evidence | None:
    """A ``Minted`` event with ``ref``: the same mint (evidence) or a conflicting one (refused).

    A ref mints once whoever received it, so the query is filtered by the (indexed) ref only, never
    narrowed to ``to``: that would miss the same ref minted to someone else.
    """
    for ev in token.find_events("Minted", {"ref": ref}):
        detail = (
            f"{format_amount(int(ev.args['amount']), decimals=token.decimals)} {token.symbol} minted to "
            f"{ev.args['to']} by {ev.args['minter']} in {ev.tx_hash} (block {ev.block_number})"
        )
        if to is not None and (ev.args["to"] != to or int(ev.args["amount"]) != amount):
            raise UserInputError(
                f"ref {_ref_text(ref)!r} was already minted: {detail}",
                hint="a bank transfer is minted once; check the ref and the amount",
            )
        return Evidence(detail, tx_hash=ev.tx_hash, block=ev.block_number)
    return None


def _event_evidence(
    handle: ContractHandle, event: str, ref: bytes, match: Mapping[str, Any], *, ref_field: str = "ref"
) -> Evidence | None:
    """The latest ``event`` carrying ``ref`` whose arguments equal ``match``.

    Indexed arguments (``account``, ``minter``, ``tier`` …) are filtered by the node and the rest in
    the raw logs: only the matching logs are decoded (see ``ContractHandle.find_events``).
    """
    found = _last(handle.find_events(event, {**match, ref_field: ref}))
    if found is None:
        return None
    return Evidence(f"{event} in {found.tx_hash} (block {found.block_number})",
                    tx_hash=found.tx_hash, block=found.block_number)


def _values_from(event: str, fields: Mapping[str, str]) -> Callable[[Sequence[DecodedEvent]], Mapping[str, Any]]:
    def extract(events: Sequence[DecodedEvent]) -> Mapping[str, Any]:
        for e in events:
            if e.name == event:
                return {out: e.args[src] for out, src in fields.items()}
        return {}

    return extract


def _last(events: Any) -> DecodedEvent | None:
    found = None
    for e in events:
        found = e
    return found


def _request_display(req: Any, token: Token) -> dict[str, str]:
    return {
        "id": str(req.id),
        "kind": req.kind.lower(),
        "to": req.to,
        "amount": _fmt(req.amount, token),
        "ref": _ref_text(req.ref),
        "approvals": f"{req.approvals}/{req.approvals_needed}",
        "status": req.status.lower(),
        "maker": req.maker,
    }


def _inner_display(call: Call) -> dict[str, str]:
    if call.function == "upgradeToAndCall":
        data = call.args.get("data", b"")
        return {"implementation": str(call.args["newImplementation"]),
                "call": "0x" + bytes(data).hex() if data else "(none)"}
    return {"call": f"{call.contract}.{call.function}()"}


# --------------------------------------------------------------------------- input validation


def _address(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise UserInputError(f"{what} must be an address string, got {type(value).__name__}")
    addr = parse_address(value, what=what)
    if int(addr, 16) == 0:
        raise UserInputError(f"{what} is the zero address")
    return addr


def _amount(value: AmountInput, token: Token, *, what: str, allow_zero: bool = False) -> int:
    """Human text (token units), exact ``Decimal`` (token units) or ``int`` (base units)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise UserInputError(
            f"{what} must be text, an exact Decimal or an int of base units, not {type(value).__name__}",
            hint="floats are never used for money",
        )
    if isinstance(value, int):
        if value < 0:
            raise UserInputError(f"{what} {value} is negative")
        if value == 0 and not allow_zero:
            raise UserInputError(f"{what} is zero", hint="give an amount above zero")
        if value >= 2**256:
            raise UserInputError(f"{what} {value} is too large")
        return value
    if isinstance(value, Decimal):
        value = format(value, "f")
    if not isinstance(value, str):
        raise UserInputError(f"{what} must be text, Decimal or int, got {type(value).__name__}")
    try:
        return parse_amount(value, decimals=token.decimals, allow_zero=allow_zero)
    except UserInputError as exc:
        raise UserInputError(f"{what}: {exc.message}", hint=exc.hint) from None


def _limit(value: AmountInput, token: Token, what: str) -> int:
    if isinstance(value, str) and value.strip().lower() in ("unlimited", "none", "max"):
        return UNLIMITED
    return _amount(value, token, what=what, allow_zero=True)


def _fmt(units: int, token: Token) -> str:
    return f"{format_amount(units, decimals=token.decimals)} {token.symbol}"


def _fmt_limit(units: int, token: Token) -> str:
    return "unlimited" if units >= UNLIMITED else _fmt(units, token)


def _ref(text: str) -> tuple[bytes, str]:
    if not isinstance(text, str):
        raise UserInputError("the ref must be text (a bank transfer id, case number or 0x + 64 hex)")
    return parse_ref(text), text.strip()


def _tier(value: int | str) -> int:
    try:
        level = int(value) if not isinstance(value, bool) else -1
    except (TypeError, ValueError):
        raise UserInputError(f"tier {value!r} is not a number from 0 to 255") from None
    if not 0 <= level <= 255:
        raise UserInputError(f"tier {value!r} is not a number from 0 to 255")
    return level


def _request_id(value: int | str) -> int:
    try:
        rid = int(value) if not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        raise UserInputError(f"request id {value!r} is not a number") from None
    if rid <= 0:
        raise UserInputError(f"request id {value!r} must be a positive number (ids start at 1)")
    return rid


def _non_negative_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserInputError(f"{what} must be a non-negative number of seconds")
    return value


def _hex_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    text = value.strip()
    if text in ("", "0x"):
        return b""
    if not text.startswith("0x") or len(text) % 2:
        raise UserInputError(f"{what} must be 0x-prefixed hex with an even number of digits")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise UserInputError(f"{what} is not valid hex") from None


def parse_timestamp(value: int | str) -> int:
    """Unix seconds from an int, a digit string or ISO 8601 with a zone (a bare date is UTC midnight)."""
    if isinstance(value, bool):
        raise UserInputError("as-of must be a time, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise UserInputError("as-of is negative")
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            day = _dt.date.fromisoformat(text)
            return int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC).timestamp())
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserInputError(
            f"as-of {value!r} is not a time", hint="use unix seconds, 2025-01-31 or 2025-01-31T18:00:00+05:00"
        ) from None
    if moment.tzinfo is None:
        raise UserInputError(f"as-of {value!r} has no time zone", hint="append Z (UTC) or an offset like +05:00")
    return int(moment.timestamp())


def _iso(timestamp: int) -> str:
    return _dt.datetime.fromtimestamp(timestamp, _dt.UTC).isoformat().replace("+00:00", "Z")
