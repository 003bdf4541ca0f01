"""The deploy plan: an ordered list of named steps built from a :class:`DeployConfig`.

Each step is one transaction: a contract creation or one call. A step knows how
to build its arguments from what earlier steps produced (addresses), and, for a
call, how to tell from the chain that its effect is already there (``applied``),
which is what makes a re-run after a crash safe without the journal's help.

Step ids are stable across runs (they name the function and its static inputs,
e.g. ``token.grantRole.PAUSER_ROLE.0x7099…``) because the journal and the crash
drills refer to them. ``params`` are the step's static inputs: when the config
changes them (a new supply cap), the step runs again; otherwise a step the
journal shows as confirmed is never repeated.

Order::

    token.implementation        PilotRupee (or [token] contract) implementation
    token.proxy                 PilotRupeeProxy(implementation, initialize(name, symbol, decimals, deployer, adminDelay))
    timelock                    PilotTimelock(minDelay, proposers, executors, 0)          [timelock]
    token.setSupplyCap, token.setMaxAttestationAge
    token.setTierLimits.<tier>                                                            [[tiers]]
    token.setExempt.<account>                                                             exempt
    token.grantRole.<ROLE>.<account>                                                      [roles]
    token.attestReserves        signed by an ATTESTOR_ROLE holder                         [attestation]
    desk                        MintDesk(token, adminDelay, deployer, policy…)            [mint_desk]
    desk.grantRole.<ROLE>.<account>, token.setExempt.mint_desk
    token.configureMinter.<account>   signed by a MINTER_ADMIN_ROLE holder                [[minters]], desk
    token.setLimitsMode, token.setAllowlistMode                                           [controls]
    desk.beginDefaultAdminTransfer, token.beginDefaultAdminTransfer   when the admin is not the deployer
    --upgrade only: token.implementation@<codehash>, token.upgradeToAndCall@<codehash>
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ..amounts import format_amount
from ..contracts import ContractHandle, encode_call, function_item, role_id
from ..errors import ConfigError, DeploymentError
from ..human import json_default
from .config import TOKEN_ROLES, UNLIMITED, DeployConfig

if TYPE_CHECKING:
    from web3 import Web3

    from ..compile import Artifacts

__all__ = [
    "DEFAULT_ADMIN_ROLE",
    "DESK_ROLES",
    "IMPLEMENTATION_SLOT",
    "Step",
    "StepContext",
    "build_plan",
    "role_id",
]

DEFAULT_ADMIN_ROLE = bytes(32)
DESK_ROLES: Mapping[str, str] = {"makers": "MAKER_ROLE", "checkers": "CHECKER_ROLE"}
#: ERC-1967: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

#: Record names (files in deployments/<network>/) and what they hold.
TOKEN = "PilotRupee"  # noqa: S105 - a record name, not a secret
TOKEN_IMPL = "PilotRupee_Implementation"  # noqa: S105
#: A new implementation deployed by --upgrade, until the proxy points at it (then it becomes TOKEN_IMPL).
TOKEN_NEXT_IMPL = "PilotRupee_NextImplementation"  # noqa: S105
TOKEN_PROXY = "PilotRupee_Proxy"  # noqa: S105
DESK = "MintDesk"
TIMELOCK = "PilotTimelock"
PROXY_ARTIFACT = "PilotRupeeProxy"


@dataclass
class StepContext:
    """What steps read while the plan runs: the chain, resolved accounts, addresses so far."""

    w3: Web3
    chain_id: int
    deployer: str
    config: DeployConfig
    artifacts: Artifacts
    #: Account reference (``dev:3``, ``keystore:x``, ``0x…``, ``deployer``) -> checksummed address.
    accounts: Mapping[str, str]
    #: Contract key (record name) -> address, filled as create steps confirm.
    addresses: dict[str, str] = field(default_factory=dict)
    _contracts: dict[str, ContractHandle] = field(default_factory=dict, repr=False)

    def account(self, ref: str) -> str:
        """Address of an account reference, including the contracts this deploy creates."""
        if ref == "timelock":
            return self.address(TIMELOCK)
        if ref == "mint_desk":
            return self.address(DESK)
        if ref == "anyone":
            return ZERO_ADDRESS
        if ref.startswith("0x") and len(ref) == 42:
            return str(to_checksum_address(ref))
        try:
            return self.accounts[ref]
        except KeyError:
            raise DeploymentError(f"account {ref!r} was not resolved") from None

    def address(self, key: str) -> str:
        try:
            return self.addresses[key]
        except KeyError:
            raise DeploymentError(f"{key} is not deployed yet (plan order)") from None

    def contract(self, key: str) -> ContractHandle:
        """The contract at ``key`` (the token proxy speaks the implementation's ABI)."""
        address = self.address(key)
        cached = self._contracts.get(key)
        if cached is not None and cached.address == address:
            return cached
        artifact = {TOKEN: self.config.token.contract, DESK: "MintDesk", TIMELOCK: "PilotTimelock"}.get(key, key)
        contract = ContractHandle(self.w3, address, self.artifacts[artifact].abi, name=artifact)
        self._contracts[key] = contract
        return contract


@dataclass(frozen=True)
class Step:
    """One transaction of the plan."""

    id: str
    title: str
    #: ``deployer``, or the config role whose holder signs (``minter_admin``, ``attestor``, ``upgrader``).
    actor: str
    #: Static inputs; a change makes a confirmed step run again.
    params: tuple[Any, ...]
    #: Call: contract key and function name. Create: record name and artifact name.
    target: str
    function: str | None = None
    artifact: str | None = None
    args: Callable[[StepContext], list[Any]] = field(default=lambda ctx: [], compare=False, repr=False)
    #: Call steps: True when the chain already shows the step's effect.
    applied: Callable[[StepContext], bool] | None = field(default=None, compare=False, repr=False)
    #: Args that depend on the moment (the attestation's asOf) are fixed on first run and journaled.
    time_dependent: bool = False

    @property
    def is_create(self) -> bool:
        return self.artifact is not None

    @property
    def params_hash(self) -> str:
        text = json.dumps([self.id, *self.params], sort_keys=True, default=json_default)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _call(ctx: StepContext, key: str, fn: str, *args: Any) -> Any:
    return ctx.contract(key).view(fn, *args)


def build_plan(
    config: DeployConfig,
    accounts: Mapping[str, str],
    deployer: str,
    *,
    upgrade_to: str | None = None,
) -> list[Step]:
    """The ordered steps for ``config``.

    ``accounts`` resolves every non-contract account reference of the config.
    ``upgrade_to`` (a code hash prefix) adds the two upgrade steps for a changed
    implementation; the caller decides it (``--upgrade`` and the layout check).
    """
    ref = config.ref
    steps: list[Step] = []
    unit = config.token.symbol

    def money(units: int) -> str:
        if units >= UNLIMITED:
            return "unlimited"
        return f"{format_amount(units, decimals=config.token.decimals)} {unit}"

    def acct(r: str) -> str:
        if r in ("timelock", "mint_desk"):
            return r
        try:
            return accounts[r]
        except KeyError:
            raise ConfigError(f"account {r!r} is not resolved") from None

    token = config.token

    # -- contracts ---------------------------------------------------------------
    steps.append(_deploy_step("token.implementation", f"deploy {token.contract} implementation", TOKEN_IMPL,
                              token.contract))

    def proxy_args(ctx: StepContext) -> list[Any]:
        impl = ctx.address(TOKEN_IMPL)
        init = _initialize_calldata(ctx, deployer)
        return [impl, init]

    steps.append(_deploy_step("token.proxy", "deploy PilotRupeeProxy and initialize", TOKEN_PROXY, PROXY_ARTIFACT,
                              proxy_args))

    if config.timelock.enabled:
        tl = config.timelock

        def timelock_args(ctx: StepContext) -> list[Any]:
            return [
                tl.min_delay,
                [ctx.account(p) for p in tl.proposers],
                [ctx.account(e) for e in tl.executors],
                ZERO_ADDRESS,
            ]

        steps.append(_deploy_step("timelock", f"deploy PilotTimelock (min delay {tl.min_delay} s)", TIMELOCK,
                                  "PilotTimelock", timelock_args))

    # -- token settings (deployer is admin during the deploy) ----------------------
    steps.append(_setting_step("setSupplyCap", "supplyCap", config.supply_cap, ref,
                               f"set supply cap {money(config.supply_cap)}"))
    steps.append(_setting_step("setMaxAttestationAge", "maxAttestationAge", config.max_attestation_age, ref,
                               f"set max attestation age {config.max_attestation_age} s"))
    for tier in config.tiers:
        t, mb, mo = tier.tier, tier.max_balance, tier.max_daily_outflow
        steps.append(_deployer_call(f"token.setTierLimits.{t}",
                                    f"set tier {t} limits: balance {money(mb)}, daily outflow {money(mo)}", TOKEN,
                                    "setTierLimits", _const_args([t, mb, mo, ref]), _tier_applied(t, mb, mo),
                                    params=(mb, mo)))
    for r in config.exempt:
        steps.append(_exempt_step(acct(r), ref))

    # -- roles -----------------------------------------------------------------------
    for role, constant in TOKEN_ROLES.items():
        for holder in config.role_holders(role):
            steps.append(_grant_step("token", TOKEN, constant, acct(holder), holder))

    # -- first attestation ---------------------------------------------------------------
    if config.attestation is not None:
        att = config.attestation

        def attest_args(ctx: StepContext) -> list[Any]:
            as_of = att.as_of
            if as_of is None:
                as_of = int(ctx.w3.eth.get_block("latest")["timestamp"])
            return [att.amount, as_of, att.report_hash]

        def attested(ctx: StepContext) -> bool:
            amount, _as_of, report_hash, _at = _call(ctx, TOKEN, "reserves")
            return bool(amount == att.amount and bytes(report_hash) == att.report_hash)

        steps.append(
            Step(
                id="token.attestReserves",
                title=f"attest reserves {money(att.amount)}",
                actor="attestor",
                params=(att.amount, att.report_hash, att.as_of),
                target=TOKEN,
                function="attestReserves",
                args=attest_args,
                applied=attested,
                time_dependent=att.as_of is None,
            )
        )

    # -- mint desk -------------------------------------------------------------------------
    desk = config.mint_desk
    if desk.enabled:

        def desk_args(ctx: StepContext) -> list[Any]:
            return [
                ctx.address(TOKEN),
                desk.admin_delay,
                deployer,
                desk.threshold,
                desk.approvals_required,
                desk.daily_direct_limit,
                desk.request_ttl,
            ]

        steps.append(_deploy_step("desk", "deploy MintDesk", DESK, "MintDesk", desk_args))
        for group, constant in DESK_ROLES.items():
            for holder in getattr(desk, group):
                steps.append(_grant_step("desk", DESK, constant, acct(holder), holder))
        if desk.exempt:
            steps.append(_exempt_step("mint_desk", ref))

    # -- minters (MINTER_ADMIN_ROLE holder signs) ----------------------------------------------
    minters: list[tuple[str, int]] = [(acct(m.account), m.allowance) for m in config.minters]
    if desk.enabled:
        minters.append(("mint_desk", desk.allowance))
    for who, allowance in minters:

        def minter_applied(ctx: StepContext, who: str = who, allowance: int = allowance) -> bool:
            address = ctx.account(who)
            return bool(
                _call(ctx, TOKEN, "isMinter", address) and _call(ctx, TOKEN, "minterAllowance", address) == allowance
            )

        steps.append(
            Step(
                id=f"token.configureMinter.{who}",
                title=f"configure minter {who} with allowance {money(allowance)}",
                actor="minter_admin",
                params=(allowance,),
                target=TOKEN,
                function="configureMinter",
                args=_minter_args(who, allowance, ref),
                applied=minter_applied,
            )
        )

    # -- controls ---------------------------------------------------------------------------------
    if config.limits_enabled:
        steps.append(_setting_step("setLimitsMode", "limitsEnabled", True, ref, "switch tier limits on"))
    if config.allowlist_enabled:
        steps.append(_setting_step("setAllowlistMode", "allowlistEnabled", True, ref, "switch allowlist mode on"))

    # -- admin handovers (two-step; the new admin accepts after the delay) -------------------------
    if desk.enabled and acct(desk.admin) not in ("deployer", deployer):
        steps.append(_admin_transfer_step("desk", DESK, acct(desk.admin)))
    final_admin = acct(config.final_admin)
    if final_admin not in ("deployer", deployer):
        steps.append(_admin_transfer_step("token", TOKEN, final_admin))

    # -- upgrade -------------------------------------------------------------------------------------
    if upgrade_to is not None:
        steps.append(
            Step(
                id=f"token.implementation@{upgrade_to}",
                title=f"deploy new {token.contract} implementation",
                actor="deployer",
                params=(),
                target=TOKEN_NEXT_IMPL,
                artifact=token.contract,
            )
        )

        def upgraded(ctx: StepContext) -> bool:
            raw = ctx.w3.eth.get_storage_at(ctx.address(TOKEN), IMPLEMENTATION_SLOT)  # type: ignore[arg-type]
            current = to_checksum_address(bytes(raw)[-20:])
            return bool(current == ctx.address(TOKEN_NEXT_IMPL))

        call = token.upgrade_call

        def upgrade_args(ctx: StepContext) -> list[Any]:
            return [ctx.address(TOKEN_NEXT_IMPL), upgrade_calldata(ctx, call)]

        steps.append(
            Step(
                id=f"token.upgradeToAndCall@{upgrade_to}",
                title="upgrade the proxy to the new implementation" + (f" and call {call[0]}" if call else ""),
                actor="upgrader",
                params=(call[0], list(call[1])) if call else (),
                target=TOKEN,
                function="upgradeToAndCall",
                args=upgrade_args,
                applied=upgraded,
            )
        )
    _check_unique(steps)
    return steps


def _deploy_step(
    id: str, title: str, target: str, artifact: str, args: Callable[[StepContext], list[Any]] | None = None
) -> Step:
    """The deployer deploys ``artifact`` as ``target`` (constructor arguments from ``args``)."""
    return Step(id=id, title=title, actor="deployer", params=(), target=target, artifact=artifact,
                args=args or _const_args([]))


def _setting_step(function: str, getter: str, value: Any, ref: bytes, title: str) -> Step:
    """A token setting the deployer makes, ``function(value, ref)``; done when ``getter()`` reads ``value``."""
    return _deployer_call(f"token.{function}", title, TOKEN, function, _const_args([value, ref]),
                          lambda ctx: bool(_call(ctx, TOKEN, getter) == value), params=(value,))


def _deployer_call(
    id: str, title: str, target: str, function: str, args: Callable[[StepContext], list[Any]],
    applied: Callable[[StepContext], bool], *, params: tuple[Any, ...] = (),
) -> Step:
    """A call the deployer signs (it is admin during the deploy), done when ``applied`` reads so."""
    return Step(id=id, title=title, actor="deployer", params=params, target=target, function=function, args=args,
                applied=applied)


def _const_args(values: list[Any]) -> Callable[[StepContext], list[Any]]:
    def args(ctx: StepContext) -> list[Any]:
        return list(values)

    return args


def _tier_applied(tier: int, max_balance: int, max_outflow: int) -> Callable[[StepContext], bool]:
    def applied(ctx: StepContext) -> bool:
        return tuple(_call(ctx, TOKEN, "tierLimits", tier)) == (max_balance, max_outflow)

    return applied


def _minter_args(who: str, allowance: int, ref: bytes) -> Callable[[StepContext], list[Any]]:
    def args(ctx: StepContext) -> list[Any]:
        return [ctx.account(who), allowance, ref]

    return args


def upgrade_calldata(ctx: StepContext, call: tuple[str, tuple[Any, ...]] | None) -> bytes:
    """ABI-encoded ``[token] upgrade_call`` (empty when none) with the new implementation's ABI."""
    if call is None:
        return b""
    from eth_abi.exceptions import EncodingError

    item = function_item(ctx.artifacts[ctx.config.token.contract].abi, call[0])
    try:
        if item is None:
            raise ValueError(f"the token has no function {call[0]!r} (or it is overloaded)")
        return encode_call(item, list(call[1]))[1]
    except (EncodingError, ValueError, TypeError) as exc:
        raise ConfigError(f"token.upgrade_call {call[0]}{list(call[1])} cannot be encoded: {exc}") from None


def _initialize_calldata(ctx: StepContext, deployer: str) -> bytes:
    token = ctx.config.token
    item = function_item(ctx.artifacts[token.contract].abi, "initialize")
    if item is None:
        raise DeploymentError(f"{token.contract} has no single initialize function")
    return encode_call(item, [token.name, token.symbol, token.decimals, deployer, ctx.config.admin_delay])[1]


def _grant_step(prefix: str, key: str, constant: str, who: str, ref_text: str) -> Step:
    role = role_id(constant)

    def applied(ctx: StepContext) -> bool:
        return bool(_call(ctx, key, "hasRole", role, ctx.account(who)))

    return _deployer_call(f"{prefix}.grantRole.{constant}.{who}",
                          f"grant {constant} to {ref_text if ref_text == who else f'{ref_text} ({who})'}",
                          key, "grantRole", lambda ctx: [role, ctx.account(who)], applied)


def _exempt_step(who: str, ref: bytes) -> Step:
    return _deployer_call(f"token.setExempt.{who}", f"exempt {who} from tier limits and allowlist", TOKEN,
                          "setExempt", lambda ctx: [ctx.account(who), True, ref],
                          lambda ctx: bool(_call(ctx, TOKEN, "isExempt", ctx.account(who))), params=(True,))


def _admin_transfer_step(prefix: str, key: str, new_admin: str) -> Step:
    def applied(ctx: StepContext) -> bool:
        target = ctx.account(new_admin)
        if _call(ctx, key, "defaultAdmin") == target:
            return True
        pending, _schedule = _call(ctx, key, "pendingDefaultAdmin")
        return bool(pending == target)

    return _deployer_call(f"{prefix}.beginDefaultAdminTransfer.{new_admin}", f"begin handing {key} admin to {new_admin}",
                          key, "beginDefaultAdminTransfer", lambda ctx: [ctx.account(new_admin)], applied)


def _check_unique(steps: Sequence[Step]) -> None:
    seen: set[str] = set()
    for step in steps:
        if step.id in seen:
            raise ConfigError(f"the deploy plan has step {step.id} twice (an account is listed twice)")
        seen.add(step.id)
