"""The operator actions: one table (:data:`ACTIONS`, a row of :class:`ActionSpec` each: arguments with their
parsers, the role that signs, the contract call, the evidence that it was done) and one path, :func:`perform`,
that validates, builds the :class:`~pkr_pilot.ops.flow.Plan` and runs it through
:meth:`Operator.run <pkr_pilot.ops.flow.Operator.run>` (the one flow). The typed functions (``mint`` …) call it.

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
from dataclasses import dataclass, replace
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
from ..human import iso
from .flow import Evidence, OperationResult, Operator, Plan, RunOptions
from .views import ref_text as _ref_text

if TYPE_CHECKING:
    from ..contracts import Stack, Timelock, Token

__all__ = [
    "ACTIONS",
    "ACTION_ROLES",
    "ActionSpec",
    "Param",
    "allowlist",
    "attest_reserves",
    "burn",
    "configure_minter",
    "freeze",
    "freeze_amount",
    "governed_call",
    "grant_role",
    "limits",
    "mint",
    "mint_approve",
    "mint_cancel",
    "mint_execute",
    "mint_request",
    "parse_timestamp",
    "pause",
    "perform",
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

AmountInput = str | int | Decimal
#: An action's validated arguments by name (``ref`` is the ``(bytes32, text)`` pair).
Values = Mapping[str, Any]


# =========================================================================== the table


@dataclass(frozen=True)
class Param:
    """One argument of an action: how it is validated, shown to people and recorded in the journal."""

    #: The keyword of the library function (and of the CLI parameter).
    name: str
    #: Validates the raw input (text, Decimal, int …) into the exact value the call takes.
    parse: Callable[[Operator, Any], Any]
    #: Its key in the journal's ``args`` and in the display (default: ``name``).
    key: str = ""
    #: Its key in the display when it differs from the journal's.
    label: str = ""
    #: The text people read (default: the journal text).
    show: Callable[[Operator, Any], str] | None = None
    #: The exact text the journal records.
    record: Callable[[Any], str] = str
    #: The argument of the action's event that equals this value (evidence); ``""``: none.
    field: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """One operator action: its arguments, the role that signs it, its call and how the chain shows it done.

    Actions whose plan is the common one (the call built with the ref, the evidence an ``event`` with the
    ref whose arguments equal the parameters' ``field`` values) give ``call``; the others give ``plan``.
    """

    name: str
    #: The account role (key of the network config's ``accounts`` table) that signs it by default.
    role: str
    params: tuple[Param, ...] = ()
    #: Whether it takes a ``ref`` (the desk's request actions take the request's).
    ref: bool = True
    #: The contract call, from the stack and the validated values.
    call: Callable[[Stack, Values], Call] | None = None
    #: The event that shows it done (with the ref and the parameters' ``field`` values) …
    event: str | None = None
    #: … and the event argument that equals the signer.
    signer_field: str = ""
    #: Instead of ``event``: whatever shows it done (a payment by its ref, a state already reached).
    evidence: Callable[[Operator, Values], Evidence | None] | None = None
    warnings: Callable[[Operator, Values], Sequence[str]] | None = None
    #: Checks across arguments (raises UserInputError).
    check: Callable[[Values], None] | None = None
    #: Idempotency scope (default: the name) and whether the chain is asked even under an explicit key.
    scope: str = ""
    strict_ref: bool = False
    values: Callable[[Sequence[DecodedEvent]], Mapping[str, Any]] | None = None
    #: The plan, for the actions whose shape is their own (roles, desk requests, timelock, reserves).
    plan: Callable[[Operator, Values], Plan] | None = None


def perform(op: Operator, action: str, options: RunOptions | None = None, **raw: Any) -> OperationResult:
    """Run ``action`` (a name of :data:`ACTIONS`) with its raw arguments: the one path every action takes.

    Each argument is validated by its parser, the plan is built (the spec's call and evidence, or its own
    plan) and run through :meth:`Operator.run <pkr_pilot.ops.flow.Operator.run>`.
    """
    spec = ACTIONS.get(action)
    if spec is None:
        raise UserInputError(f"unknown action {action!r}", hint=f"one of: {', '.join(ACTIONS)}")
    unknown = sorted(set(raw) - {p.name for p in spec.params} - ({"ref"} if spec.ref else set()))
    if unknown:
        raise UserInputError(f"{action} takes no argument {', '.join(unknown)}")
    values: dict[str, Any] = {p.name: p.parse(op, raw.get(p.name)) for p in spec.params}
    if spec.ref:
        values["ref"] = _ref(raw.get("ref"))
    if spec.check is not None:
        spec.check(values)
    if spec.plan is not None:
        return op.run(spec.plan(op, values), options)
    key = (options.idempotency_key or "").strip() if options is not None else ""
    if not (key and spec.ref and not spec.strict_ref):
        return op.run(_common_plan(op, spec, values), options)
    # A deliberate repeat under its own key: the key is the ref carried on chain, so whether it was done is
    # found on chain by that ref (like any ref), never in the journal alone; the ref given stays in the journal.
    given = values["ref"][1]
    values["ref"] = _ref(key, what="--idempotency-key (carried on chain as the ref)")
    plan = _common_plan(op, spec, values)
    return op.run(replace(plan, strict_ref=True, display={**plan.display, "for ref": given}), options)


def _common_plan(op: Operator, spec: ActionSpec, v: Values) -> Plan:
    assert spec.call is not None, spec.name
    ref_bytes, ref_text = v["ref"]
    display = {(p.label or p.key or p.name): (p.show(op, v[p.name]) if p.show else p.record(v[p.name]))
               for p in spec.params}
    evidence: Callable[[], Evidence | None] | None = None
    if spec.evidence is not None:
        find = spec.evidence
        evidence = lambda: find(op, v)  # noqa: E731
    elif spec.event is not None:
        event = spec.event
        match = {p.field: v[p.name] for p in spec.params if p.field}
        if spec.signer_field:
            match[spec.signer_field] = op.address
        evidence = lambda: _event_evidence(op.stack.token, event, ref_bytes, match)  # noqa: E731
    return _plan(
        spec.name, spec.call(op.stack, v), scope=spec.scope or spec.name, ref=(ref_bytes, ref_text),
        display={**display, "ref": ref_text}, args={(p.key or p.name): p.record(v[p.name]) for p in spec.params},
        evidence=evidence, strict_ref=spec.strict_ref, values=spec.values,
        warnings=spec.warnings(op, v) if spec.warnings is not None else (),
    )


# --------------------------------------------------------------------------- parameters


def _address_param(name: str, what: str, *, key: str = "") -> Param:
    return Param(name, lambda _op, value: _address(value, what), key=key, field=key or name)


def _amount_param(name: str, what: str, *, allow_zero: bool = False) -> Param:
    return Param(name, lambda op, value: _amount(value, op.stack.token, what=what, allow_zero=allow_zero),
                 show=lambda op, units: _fmt(units, op.stack.token), field=name)


def _limit_param(name: str, what: str) -> Param:
    return Param(name, lambda op, value: _limit(value, op.stack.token, what),
                 show=lambda op, units: _fmt_limit(units, op.stack.token))


def _switch_param(name: str, *, label: str = "", words: tuple[str, str] = ("on", "off")) -> Param:
    return Param(name, lambda _op, value: _switch(value, name), label=label, field=name,
                 show=lambda _op, on: words[0] if on else words[1], record=lambda on: str(on).lower())


_TO = _address_param("to", "recipient")
_ACCOUNT = _address_param("account", "account")
_AMOUNT = _amount_param("amount", "amount")
_MINTER = _address_param("minter", "minter")
_TIER = Param("tier", lambda _op, value: _tier(value), field="tier")
_TEXT = Param("", lambda _op, value: value)
_REQUEST_ID = Param("request_id", lambda _op, value: _request_id(value))


def _seize_check(v: Values) -> None:
    if v["source"] == v["to"]:
        raise UserInputError("seize: the source and the recipient are the same account")


def _spec_table() -> dict[str, ActionSpec]:
    """The operator actions, one row each (see :class:`ActionSpec`)."""
    specs = (
        # ------------------------------------------------------------------ token operations
        ActionSpec("mint", "minter", (_TO, _AMOUNT), scope="mint", strict_ref=True,
                   call=lambda s, v: s.token.mint(v["to"], v["amount"], v["ref"][0]),
                   evidence=lambda op, v: _minted_evidence(op.stack.token, v["ref"][0], v["to"], v["amount"])),
        ActionSpec("burn", "burner", (_AMOUNT,), call=lambda s, v: s.token.burn(v["amount"], v["ref"][0]),
                   event="Burned", signer_field="burner"),
        ActionSpec("transfer", "treasury", (_TO, _AMOUNT),
                   call=lambda s, v: s.token.build("transferWithReference", v["to"], v["amount"], v["ref"][0]),
                   warnings=lambda op, v: _system_recipient(op.stack, v["to"]),
                   evidence=lambda op, v: _payment_evidence(op.stack.token, op.address, v["ref"][0], v["to"],
                                                            v["amount"])),
        ActionSpec("freeze", "freezer", (_ACCOUNT,), call=lambda s, v: s.token.freeze(v["account"], v["ref"][0]),
                   event="Frozen"),
        ActionSpec("unfreeze", "freezer", (_ACCOUNT,), event="Unfrozen",
                   call=lambda s, v: s.token.unfreeze(v["account"], v["ref"][0])),
        ActionSpec("freeze-amount", "freezer", (_ACCOUNT, _AMOUNT), event="AmountFrozen",
                   call=lambda s, v: s.token.freeze_amount(v["account"], v["amount"], v["ref"][0])),
        ActionSpec("unfreeze-amount", "freezer", (_ACCOUNT, _AMOUNT), event="AmountUnfrozen",
                   call=lambda s, v: s.token.unfreeze_amount(v["account"], v["amount"], v["ref"][0])),
        ActionSpec("seize", "seizer", (_address_param("source", "source account", key="from"), _TO, _AMOUNT),
                   check=_seize_check, event="Seized",
                   call=lambda s, v: s.token.seize(v["source"], v["to"], v["amount"], v["ref"][0])),
        ActionSpec("pause", "pauser", call=lambda s, _v: s.token.pause(),
                   evidence=lambda op, _v: _pause_state(op.stack.token, paused=True)),
        ActionSpec("unpause", "unpauser", call=lambda s, _v: s.token.unpause(),
                   evidence=lambda op, _v: _pause_state(op.stack.token, paused=False)),
        ActionSpec("minter-configure", "minter_admin",
                   (_MINTER, _amount_param("allowance", "allowance", allow_zero=True)), event="MinterConfigured",
                   call=lambda s, v: s.token.configure_minter(v["minter"], v["allowance"], v["ref"][0])),
        ActionSpec("minter-remove", "minter_admin", (_MINTER,), event="MinterRemoved",
                   call=lambda s, v: s.token.remove_minter(v["minter"], v["ref"][0])),
        ActionSpec("roles-grant", "admin", _ROLE_PARAMS, plan=lambda op, v: _role_plan(op, "grant", v)),
        ActionSpec("roles-revoke", "admin", _ROLE_PARAMS, plan=lambda op, v: _role_plan(op, "revoke", v)),
        ActionSpec("reserves-attest", "attestor", (_amount_param("amount", "reserves", allow_zero=True),
                                                   replace(_TEXT, name="as_of")), plan=_attest_plan),
        # ------------------------------------------------------------------ regulator controls
        ActionSpec("mint-request", "maker", (_TO, _AMOUNT), scope="mint", strict_ref=True,
                   call=lambda s, v: s.require_desk().request_mint(v["to"], v["amount"], v["ref"][0]),
                   evidence=_mint_request_evidence,
                   values=_values_from("MintRequested", {"request_id": "id", "expires_at": "expiresAt",
                                                         "required_approvals": "requiredApprovals"})),
        ActionSpec("mint-approve", "checker", (_REQUEST_ID,), ref=False, plan=_approve_plan),
        ActionSpec("mint-execute", "maker", (_REQUEST_ID,), ref=False,
                   plan=_request_plan("mint-execute", "Executed", "MintExecuted", "executed", Desk.execute_mint)),
        ActionSpec("mint-cancel", "maker", (_REQUEST_ID,), ref=False,
                   plan=_request_plan("mint-cancel", "Cancelled", "MintCancelled", "cancelled", Desk.cancel_mint)),
        ActionSpec("tier-set", "kyc", (_ACCOUNT, _TIER), event="TierSet",
                   call=lambda s, v: s.token.set_tier(v["account"], v["tier"], v["ref"][0])),
        ActionSpec("tier-limits", "admin",
                   (replace(_TIER, field=""), _limit_param("max_balance", "max balance"),
                    _limit_param("max_daily_outflow", "max daily outflow")),
                   call=lambda s, v: s.token.set_tier_limits(v["tier"], v["max_balance"], v["max_daily_outflow"],
                                                             v["ref"][0]),
                   evidence=lambda op, v: _event_evidence(op.stack.token, "TierLimitsSet", v["ref"][0], {
                       "tier": v["tier"], "maxBalance": min(v["max_balance"], UNLIMITED),
                       "maxDailyOutflow": min(v["max_daily_outflow"], UNLIMITED)})),
        ActionSpec("tier-exempt", "admin", (_ACCOUNT, _switch_param("exempt", words=("yes", "no"))),
                   event="ExemptionSet", call=lambda s, v: s.token.set_exempt(v["account"], v["exempt"], v["ref"][0])),
        ActionSpec("allowlist", "admin", (_switch_param("enabled", label="mode"),), event="AllowlistModeSet",
                   call=lambda s, v: s.token.set_allowlist_mode(v["enabled"], v["ref"][0])),
        ActionSpec("limits", "admin", (_switch_param("enabled", label="mode"),), event="LimitsModeSet",
                   call=lambda s, v: s.token.set_limits_mode(v["enabled"], v["ref"][0])),
        ActionSpec("timelock-schedule", "proposer", (*_GOVERNED_PARAMS, replace(_TEXT, name="delay")),
                   plan=_schedule_plan),
        ActionSpec("timelock-execute", "executor", _GOVERNED_PARAMS, plan=_execute_plan),
    )
    return {spec.name: spec for spec in specs}


# =========================================================================== the library functions


def mint(op: Operator, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Mint ``amount`` to ``to`` under ``ref`` (the bank transfer id), as a configured minter.

    A ref mints once: the journal and the chain's ``Minted`` events are checked before sending, and a
    ref already minted (with any amount, by any minter, directly or through the desk) is refused.
    """
    return perform(op, "mint", options, to=to, amount=amount, ref=ref)


def burn(op: Operator, amount: AmountInput, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Burn ``amount`` from the signer's own balance (a redemption), as a minter or ``BURNER_ROLE``."""
    return perform(op, "burn", options, amount=amount, ref=ref)


def transfer(op: Operator, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Transfer ``amount`` from the signer to ``to`` with its ref on chain (``transferWithReference``).

    Done already when the chain shows ``PaymentReference(signer, ref)`` with the ``Transfer`` before it;
    the same ref paid to another address or amount is refused.
    """
    return perform(op, "transfer", options, to=to, amount=amount, ref=ref)


def freeze(op: Operator, account: str, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Fully freeze ``account`` (compliance alert): it can neither send nor receive."""
    return perform(op, "freeze", options, account=account, ref=ref)


def unfreeze(op: Operator, account: str, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Lift the full freeze of ``account`` (a partial freeze stays)."""
    return perform(op, "unfreeze", options, account=account, ref=ref)


def freeze_amount(
    op: Operator, account: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Freeze ``amount`` more of ``account``'s balance (may exceed the balance: pre-emptive)."""
    return perform(op, "freeze-amount", options, account=account, amount=amount, ref=ref)


def unfreeze_amount(
    op: Operator, account: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Release ``amount`` of ``account``'s frozen amount."""
    return perform(op, "unfreeze-amount", options, account=account, amount=amount, ref=ref)


def seize(
    op: Operator, source: str, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Move ``amount`` of frozen funds from ``source`` to ``to`` (court order ``ref``)."""
    return perform(op, "seize", options, source=source, to=to, amount=amount, ref=ref)


def pause(op: Operator, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Pause transfers, mints and burns (freeze and seize still work); already paused counts as done."""
    return perform(op, "pause", options, ref=ref)


def unpause(op: Operator, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Resume normal operation (``UNPAUSER_ROLE``; behind a timelock use :func:`timelock_schedule`)."""
    return perform(op, "unpause", options, ref=ref)


def configure_minter(
    op: Operator, minter: str, allowance: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Configure ``minter`` with a minting ``allowance`` (replaces the previous allowance)."""
    return perform(op, "minter-configure", options, minter=minter, allowance=allowance, ref=ref)


def remove_minter(op: Operator, minter: str, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Remove ``minter``: it can no longer mint or burn as a minter."""
    return perform(op, "minter-remove", options, minter=minter, ref=ref)


def grant_role(
    op: Operator, role: str, account: str, *, ref: str, contract: str | None = None,
    options: RunOptions | None = None,
) -> OperationResult:
    """Grant ``role`` (``FREEZER_ROLE``, ``freezer``, ``MAKER_ROLE`` …) to ``account``.

    ``contract`` is ``token``, ``desk`` or ``timelock``; by default the contract that defines the role.
    Already holding the role counts as done (nothing is sent).
    """
    return perform(op, "roles-grant", options, role=role, account=account, contract=contract, ref=ref)


def revoke_role(
    op: Operator, role: str, account: str, *, ref: str, contract: str | None = None,
    options: RunOptions | None = None,
) -> OperationResult:
    """Revoke ``role`` from ``account`` (not holding it counts as done)."""
    return perform(op, "roles-revoke", options, role=role, account=account, contract=contract, ref=ref)


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
    return perform(op, "reserves-attest", options, amount=amount, as_of=as_of, ref=report)


def mint_request(
    op: Operator, to: str, amount: AmountInput, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """File a maker-checker mint request on the desk; ``result.values["request_id"]`` is its id.

    Shares the ``mint`` idempotency scope with :func:`mint`: a ref is minted once, whichever way.
    """
    return perform(op, "mint-request", options, to=to, amount=amount, ref=ref)


def mint_approve(op: Operator, request_id: int | str, *, options: RunOptions | None = None) -> OperationResult:
    """Approve desk mint request ``request_id`` as a checker (never its maker)."""
    return perform(op, "mint-approve", options, request_id=request_id)


def mint_execute(op: Operator, request_id: int | str, *, options: RunOptions | None = None) -> OperationResult:
    """Execute approved desk mint request ``request_id`` (the desk mints on the token)."""
    return perform(op, "mint-execute", options, request_id=request_id)


def mint_cancel(op: Operator, request_id: int | str, *, options: RunOptions | None = None) -> OperationResult:
    """Cancel pending desk mint request ``request_id`` (its maker or the desk admin); frees its ref."""
    return perform(op, "mint-cancel", options, request_id=request_id)


def set_tier(
    op: Operator, account: str, tier: int | str, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Put ``account`` in wallet ``tier`` (0 = unverified), as ``KYC_ROLE``."""
    return perform(op, "tier-set", options, account=account, tier=tier, ref=ref)


def set_tier_limits(
    op: Operator, tier: int | str, *, max_balance: AmountInput, max_daily_outflow: AmountInput, ref: str,
    options: RunOptions | None = None,
) -> OperationResult:
    """Set ``tier``'s maximum balance and daily outflow (``"unlimited"`` for no limit)."""
    return perform(op, "tier-limits", options, tier=tier, max_balance=max_balance,
                   max_daily_outflow=max_daily_outflow, ref=ref)


def set_exempt(
    op: Operator, account: str, exempt: bool, *, ref: str, options: RunOptions | None = None
) -> OperationResult:
    """Exempt ``account`` (a desk, the redemption address) from tier limits and allowlist mode, or not."""
    return perform(op, "tier-exempt", options, account=account, exempt=exempt, ref=ref)


def allowlist(op: Operator, enabled: bool, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Switch allowlist mode on (only tier > 0 or exempt accounts may receive) or off."""
    return perform(op, "allowlist", options, enabled=enabled, ref=ref)


def limits(op: Operator, enabled: bool, *, ref: str, options: RunOptions | None = None) -> OperationResult:
    """Switch tier limit enforcement on or off."""
    return perform(op, "limits", options, enabled=enabled, ref=ref)


def timelock_schedule(
    op: Operator, what: str, *, ref: str, implementation: str | None = None, data: str | bytes = b"",
    delay: int | None = None, options: RunOptions | None = None,
) -> OperationResult:
    """Schedule ``upgrade`` or ``unpause`` of the token through the timelock (as a proposer).

    The ref is the operation's salt, so the same ref always names the same operation. ``delay``
    defaults to the timelock's minimum delay. ``result.values["ready_at"]`` is when it can execute.
    """
    return perform(op, "timelock-schedule", options, what=what, implementation=implementation, data=data,
                   delay=delay, ref=ref)


def timelock_execute(
    op: Operator, what: str, *, ref: str, implementation: str | None = None, data: str | bytes = b"",
    options: RunOptions | None = None,
) -> OperationResult:
    """Execute a scheduled ``upgrade`` or ``unpause`` once its delay has passed (as an executor)."""
    return perform(op, "timelock-execute", options, what=what, implementation=implementation, data=data, ref=ref)


# =========================================================================== plans of their own shape


_ROLE_PARAMS = (replace(_TEXT, name="role"), replace(_TEXT, name="account"), replace(_TEXT, name="contract"))


def _role_plan(op: Operator, verb: str, v: Values) -> Plan:
    handle, role_bytes, name = _resolve_role(op, v["role"], v["contract"])
    addr = _address(v["account"], "account")
    ref_bytes, ref_text = v["ref"]
    call = handle.grant_role(role_bytes, addr) if verb == "grant" else handle.revoke_role(role_bytes, addr)

    def evidence() -> Evidence | None:
        holds = handle.has_role(role_bytes, addr)
        if holds == (verb == "grant"):
            return Evidence(f"{addr} {'already holds' if holds else 'does not hold'} {name} on {handle.name}")
        return None

    return _plan(
        f"roles-{verb}", call, scope=f"roles-{verb}", ref=(ref_bytes, ref_text),
        display={"role": name, "account": addr, "contract": handle.name, "ref": ref_text},
        args={"role": name, "account": addr, "contract": handle.address},
        evidence=evidence,
    )


def _attest_plan(op: Operator, v: Values) -> Plan:
    from ..human import percent

    token = op.stack.token
    units, as_of = v["amount"], v["as_of"]
    ref_bytes, ref_text = v["ref"]
    notes: list[str] = []
    if as_of is None or (isinstance(as_of, str) and as_of.strip().lower() == "now"):
        # The contract refuses an as-of after its block's time, and a node's latest block often lags the
        # wall clock (anvil mines on demand): "now" is the latest block's time, said so when it lags.
        when = int(op.stack.w3.eth.get_block("latest")["timestamp"])
        lag = int(_dt.datetime.now(_dt.UTC).timestamp()) - when
        as_of_text = f"{iso(when)} (now: the latest block's time" + (f", {lag} s behind the clock)" if lag > 1 else ")")
    else:
        when = parse_timestamp(as_of)
        as_of_text = iso(when)
    supply = token.total_supply()
    if units < supply:
        notes.append(
            f"the supply {_fmt(supply, token)} stays above these reserves {_fmt(units, token)} "
            f"(collateralisation {percent(units, supply)}): minting stops until reserves cover the supply"
        )
    return _plan(
        "reserves-attest", token.attest_reserves(units, when, ref_bytes), scope="reserves-attest",
        ref=(ref_bytes, ref_text),
        display={"amount": _fmt(units, token), "as_of": as_of_text, "report": ref_text},
        args={"amount": str(units), "as_of": str(when)},
        evidence=lambda: _event_evidence(
            token, "ReservesAttested", ref_bytes, {"amount": units, "asOf": when}, ref_field="reportHash"
        ),
        warnings=notes,
    )


def _mint_request_evidence(op: Operator, v: Values) -> Evidence | None:
    """The desk holds the ref: the same request (evidence) or another use of it (refused)."""
    desk, token = op.stack.require_desk(), op.stack.token
    ref_bytes, ref_text = v["ref"]
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
    if req.kind == "Mint" and req.to == v["to"] and req.amount == v["amount"]:
        return _cited(f"request {holder} ({req.status.lower()})", desk.find_events("MintRequested", {"id": holder}),
                      values={"request_id": holder})
    raise UserInputError(
        f"ref {ref_text!r} is held by desk request {holder} "
        f"({req.kind.lower()} of {_fmt(req.amount, token)} to {req.to}, {req.status.lower()})",
        hint="a bank transfer is minted once; check the ref",
    )


def _desk_plan(op: Operator, action: str, rid: int, call: Call, *, key: str,
               evidence: Callable[[], Evidence | None],
               values: Callable[[Sequence[DecodedEvent]], Mapping[str, Any]] | None = None) -> Plan:
    """A desk request action: keyed by the request (its ref is the request's), shown as the request."""
    req = op.stack.require_desk().request(rid)
    return _plan(action, call, scope=action, key=key, ref=(req.ref, _ref_text(req.ref)),
                 display=_request_display(req, op.stack.token), args={"id": str(rid)},
                 evidence=evidence, values=values)


def _approve_plan(op: Operator, v: Values) -> Plan:
    desk, rid, checker = op.stack.require_desk(), v["request_id"], op.address

    def evidence() -> Evidence | None:
        if not desk.has_approved(rid, checker):
            return None
        return _cited(f"request {rid} already approved by {checker}",
                      desk.find_events("MintApproved", {"id": rid, "checker": checker}))

    return _desk_plan(op, "mint-approve", rid, desk.approve_mint(rid), key=f"{rid}:{checker}", evidence=evidence,
                      values=_values_from("MintApproved", {"approvals": "approvals",
                                                           "required_approvals": "requiredApprovals"}))


def _request_plan(action: str, status: str, event: str, word: str,
                  build: Callable[[Desk, int], Call]) -> Callable[[Operator, Values], Plan]:
    """The plan of a desk action that takes request ``rid`` to ``status`` (citing its ``event``)."""

    def plan(op: Operator, v: Values) -> Plan:
        desk, rid = op.stack.require_desk(), v["request_id"]

        def evidence() -> Evidence | None:
            if desk.request(rid).status != status:
                return None
            return _cited(f"request {rid} {word}", desk.find_events(event, {"id": rid}))

        return _desk_plan(op, action, rid, build(desk, rid), key=str(rid), evidence=evidence)

    return plan


_GOVERNED_PARAMS = (replace(_TEXT, name="what"), replace(_TEXT, name="implementation"), replace(_TEXT, name="data"))


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


def _governed(op: Operator, v: Values) -> tuple[Timelock, Call, bytes]:
    """The timelock, the governed call and its operation id (the ref is the salt)."""
    timelock = op.stack.require_timelock()
    inner = governed_call(op, v["what"], implementation=v["implementation"], data=v["data"] or b"")
    op_id = timelock.operation_id(inner.target, inner.value, inner.data, bytes(32), v["ref"][0])
    return timelock, inner, op_id


def _schedule_plan(op: Operator, v: Values) -> Plan:
    timelock, inner, op_id = _governed(op, v)
    ref_bytes, ref_text = v["ref"]
    wait = timelock.min_delay() if v["delay"] is None else _non_negative_int(v["delay"], "delay")

    def evidence() -> Evidence | None:
        state = timelock.operation_state(op_id)
        if state == "Unset":
            return None
        return _cited(f"operation 0x{op_id.hex()} is already scheduled ({state.lower()})",
                      timelock.find_events("CallScheduled", {"id": op_id}))

    def values(events: Sequence[DecodedEvent]) -> Mapping[str, Any]:
        return {"operation_id": "0x" + op_id.hex(), "ready_at": timelock.ready_at(op_id)}

    return _plan(
        "timelock-schedule", timelock.schedule(inner, salt=ref_bytes, delay=wait), scope="timelock-schedule",
        ref=(ref_bytes, ref_text),
        display={"operation": v["what"], **_inner_display(inner), "delay": f"{wait} s", "ref": ref_text},
        args={"operation": v["what"], "target": inner.target, "data": "0x" + inner.data.hex(), "delay": str(wait)},
        evidence=evidence, values=values,
    )


def _execute_plan(op: Operator, v: Values) -> Plan:
    timelock, inner, op_id = _governed(op, v)
    what = v["what"]
    ref_bytes, ref_text = v["ref"]
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
            f"timelock operation {what} ({ref_text!r}) is not ready until {iso(ready)} "
            f"({ready - now} s from now)",
            hint="re-run this command after that time",
        )

    def evidence() -> Evidence | None:
        if timelock.operation_state(op_id) != "Done":
            return None
        return _cited(f"operation 0x{op_id.hex()} already executed", timelock.find_events("CallExecuted", {"id": op_id}))

    return _plan(
        "timelock-execute", timelock.execute(inner, salt=ref_bytes), scope="timelock-execute",
        ref=(ref_bytes, ref_text),
        display={"operation": what, **_inner_display(inner), "ref": ref_text},
        args={"operation": what, "target": inner.target, "data": "0x" + inner.data.hex()},
        evidence=evidence,
        values=lambda _events: {"operation_id": "0x" + op_id.hex()},
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


def _cited(detail: str, events: Any, *, values: Mapping[str, Any] | None = None) -> Evidence:
    """Evidence described by ``detail``, citing the last of ``events`` (its transaction and block) if any."""
    ev = _last(events)
    return Evidence(detail, tx_hash=None if ev is None else ev.tx_hash, block=None if ev is None else ev.block_number,
                    values=values or {})


def _payment_evidence(token: Token, payer: str, ref: bytes, to: str, amount: int) -> Evidence | None:
    """``PaymentReference(payer, ref)`` and the ``Transfer`` before it: the same payment, or a conflict."""
    from ..evidence import payments_in_block
    from ..transport import transport_for

    transport = transport_for(token.w3)
    for ev in token.find_events("PaymentReference", {"from": payer, "ref": ref}):
        for paid in payments_in_block(transport, token.address, payer, ev.block_number):
            if paid.ref != ref:
                continue
            detail = (f"{format_amount(paid.value, decimals=token.decimals)} {token.symbol} paid to {paid.to} "
                      f"with ref {_ref_text(ref)!r} in {ev.tx_hash} (block {ev.block_number})")
            if paid.to.lower() != to.lower() or paid.value != amount:
                raise UserInputError(f"ref {_ref_text(ref)!r} was already used by {payer}: {detail}",
                                     hint="a payment ref is used once; check the ref, the recipient and the amount")
            return Evidence(detail, tx_hash=ev.tx_hash, block=ev.block_number)
    return None


def _system_recipient(stack: Any, to: str) -> tuple[str, ...]:
    """A warning when ``to`` is one of the stack's own contracts (tokens sent there are stuck)."""
    for handle in stack.handles():
        if handle.address == to:
            what = "the token contract itself" if handle is stack.token else f"the {handle.name} contract"
            return (f"{to} is {what}: tokens sent there can only be recovered by a rescue",)
    return ()


def _pause_state(token: Token, *, paused: bool) -> Evidence | None:
    """The chain's state already is what pause (or unpause) leads to: nothing to send."""
    if token.paused() == paused:
        return Evidence(f"the token is already {'paused' if paused else 'not paused'}")
    return None


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


def _ref(text: object, *, what: str = "the ref") -> tuple[bytes, str]:
    if not isinstance(text, str):
        raise UserInputError(f"{what} must be text (a bank transfer id, case number or 0x + 64 hex)")
    try:
        return parse_ref(text), text.strip()
    except UserInputError as exc:
        if what == "the ref":
            raise
        raise UserInputError(f"{what}: {exc.message}", hint=exc.hint) from None


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


def _switch(value: bool | str, what: str) -> bool:
    """``True``/``False``, or the words ``on``/``off`` (as the command line has them)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    raise UserInputError(f"{what} must be on or off (a boolean), got {value!r}")


#: Every operator action by name.
ACTIONS: Mapping[str, ActionSpec] = _spec_table()
#: The account role (key of the network config's ``accounts`` table) each action signs with by default.
ACTION_ROLES: Mapping[str, str] = {name: spec.role for name, spec in ACTIONS.items()}
