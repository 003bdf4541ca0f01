"""The deploy configuration: what the stack looks like once deployed.

A per-network TOML file (``deploy/<network>.toml`` by default, or ``--config FILE``)
describes the token, who holds which role, the minters and their allowances, the
supply cap and reserve rules, an optional first attestation, the optional MintDesk
and TimelockController, and the wallet-tier controls. ``deploy/example.toml``
documents every field with its default; :func:`dev_default_config` is the built-in
configuration used on a local dev chain when no file exists (every role goes to a
dev account, so ``pkr-pilot deploy --network http://127.0.0.1:8545 --account dev:0``
needs nothing else).

Amounts are written in token units (``"1,000,000.00"`` or an integer number of
whole tokens) and converted exactly to base units with the token's ``decimals``;
``"unlimited"`` is accepted where the contract has an "unlimited" value.

Accounts are *references*, resolved at deploy time (see :mod:`.plan`):

``0x…``            a checksummed (or all-lower/upper-case) address
``dev:N``          the N-th public anvil test account (refused off dev chains)
``keystore:NAME``  the address stored in ``.pkr-pilot/keystores/NAME.json`` (no password needed)
``deployer``       the account that runs the deploy
``timelock``       the PilotTimelock deployed by this config (``[timelock] enabled = true``)
``mint_desk``      the MintDesk deployed by this config (``[mint_desk] enabled = true``)
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..amounts import UNLIMITED, TierLimits, parse_address, parse_amount
from ..errors import ConfigError, UserInputError
from ..human import json_default

__all__ = [
    "CONFIG_SCHEMA_VERSION",
    "TOKEN_ROLES",
    "UNLIMITED",
    "AttestationConfig",
    "DeployConfig",
    "MintDeskConfig",
    "MinterConfig",
    "TimelockConfig",
    "TokenConfig",
    "default_config_path",
    "dev_default_config",
    "load_deploy_config",
    "parse_deploy_config",
]

CONFIG_SCHEMA_VERSION = 1

#: Config role name -> the token's role constant (see IPilotRupee).
TOKEN_ROLES: Mapping[str, str] = {
    "minter_admin": "MINTER_ADMIN_ROLE",
    "pauser": "PAUSER_ROLE",
    "unpauser": "UNPAUSER_ROLE",
    "freezer": "FREEZER_ROLE",
    "seizer": "SEIZER_ROLE",
    "attestor": "ATTESTOR_ROLE",
    "burner": "BURNER_ROLE",
    "rescuer": "RESCUER_ROLE",
    "upgrader": "UPGRADER_ROLE",
    "kyc": "KYC_ROLE",
}


_SPECIAL_REFS = ("deployer", "timelock", "mint_desk")


@dataclass(frozen=True)
class TokenConfig:
    """``[token]``: the ERC-20 metadata, fixed at initialization."""

    #: Artifact name of the implementation contract (a test or V2 contract for upgrades).
    contract: str = "PilotRupee"
    #: ERC-20 / EIP-712 name; at most 31 bytes.
    name: str = "Pilot Pakistani Rupee"
    symbol: str = "PKRP"
    #: 2 = paisa.
    decimals: int = 2
    #: Function and arguments the proxy calls on the new implementation during ``--upgrade``
    #: (``upgradeToAndCall``), e.g. ``("initializeV2", (42,))``; None = no call.
    upgrade_call: tuple[str, tuple[Any, ...]] | None = None


@dataclass(frozen=True)
class MinterConfig:
    """``[[minters]]``: a configured minter and its allowance in base units."""

    account: str
    allowance: int


@dataclass(frozen=True)
class AttestationConfig:
    """``[attestation]``: the optional first reserve attestation (by an ATTESTOR_ROLE holder)."""

    amount: int
    #: 32 bytes; the hash of the reserve report.
    report_hash: bytes
    #: Unix seconds; None = the latest block's timestamp when the step first runs.
    as_of: int | None = None


@dataclass(frozen=True)
class MintDeskConfig:
    """``[mint_desk]``: the maker-checker desk (a minter on the token)."""

    enabled: bool = False
    #: Desk admin after the deploy (two-step transfer begun by the deploy if not the deployer).
    admin: str = "deployer"
    admin_delay: int = 0
    makers: tuple[str, ...] = ()
    checkers: tuple[str, ...] = ()
    #: The desk's minter allowance on the token.
    allowance: int = 0
    threshold: int = 0
    approvals_required: int = 2
    daily_direct_limit: int = 0
    request_ttl: int = 86_400
    #: Exempt the desk from tier limits and allowlist mode.
    exempt: bool = True


@dataclass(frozen=True)
class TimelockConfig:
    """``[timelock]``: OpenZeppelin TimelockController in front of admin, upgrades and unpause."""

    enabled: bool = False
    min_delay: int = 172_800
    proposers: tuple[str, ...] = ()
    #: ``"anyone"`` (address zero) lets anyone execute a ready operation.
    executors: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeployConfig:
    """The whole stack as it should be after the deploy. Amounts are base units."""

    token: TokenConfig = field(default_factory=TokenConfig)
    #: Token admin (DEFAULT_ADMIN_ROLE) after the deploy; the deployer is admin during it.
    admin: str = "deployer"
    #: Delay of a two-step admin transfer (AccessControlDefaultAdminRules), seconds.
    admin_delay: int = 86_400
    #: Config role name -> account references (see TOKEN_ROLES).
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    minters: tuple[MinterConfig, ...] = ()
    supply_cap: int = 0
    max_attestation_age: int = 86_400
    attestation: AttestationConfig | None = None
    mint_desk: MintDeskConfig = field(default_factory=MintDeskConfig)
    timelock: TimelockConfig = field(default_factory=TimelockConfig)
    limits_enabled: bool = False
    allowlist_enabled: bool = False
    tiers: tuple[TierLimits, ...] = ()
    exempt: tuple[str, ...] = ()
    #: The bytes32 ``ref`` passed to every privileged call the deploy makes.
    ref: bytes = b"pkr-pilot deploy".ljust(32, b"\0")
    #: Where this config came from (a path, or "built-in dev default").
    source: str = "built-in"

    def role_holders(self, role: str) -> tuple[str, ...]:
        """Account references for config role ``role`` (the timelock rules applied)."""
        holders = tuple(self.roles.get(role, ()))
        if self.timelock.enabled and role in ("upgrader", "unpauser"):
            return ("timelock",)
        return holders

    @property
    def final_admin(self) -> str:
        return "timelock" if self.timelock.enabled else self.admin

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON form (source excluded)."""
        data = asdict(self)
        data.pop("source", None)
        text = json.dumps(data, sort_keys=True, default=json_default)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (bytes as 0x-hex, amounts as base-unit integers)."""
        out: dict[str, Any] = json.loads(json.dumps(asdict(self), default=json_default))
        return out


# ---------------------------------------------------------------------------
# Built-in dev default
# ---------------------------------------------------------------------------


def dev_default_config(decimals: int = 2) -> DeployConfig:
    """The configuration used on a dev chain without a deploy config file.

    Deployer ``dev:0`` keeps the admin, upgrader and rescuer roles; every other power
    goes to its own dev account so separation of duties is visible from day one:

    ========  ==========================================
    dev:0     deployer, DEFAULT_ADMIN, UPGRADER, RESCUER
    dev:1     MINTER_ADMIN
    dev:2     PAUSER, UNPAUSER
    dev:3     FREEZER
    dev:4     SEIZER
    dev:5     ATTESTOR (makes the first attestation)
    dev:6     BURNER (redemptions)
    dev:7     KYC; MintDesk checker
    dev:8     minter (100,000,000 PKRP allowance); MintDesk checker
    dev:9     MintDesk maker
    ========  ==========================================

    Supply cap 10,000,000,000 PKRP, first attestation 1,000,000,000 PKRP as of deploy
    time, attestations valid 30 days, admin delay 0, MintDesk on (allowance
    1,000,000,000, threshold 100,000, 2 approvals, 1,000,000 direct per day), timelock
    off, limits and allowlist off with three illustrative tiers defined.
    """
    unit = 10**decimals
    return DeployConfig(
        token=TokenConfig(decimals=decimals),
        admin="deployer",
        admin_delay=0,
        roles={
            "minter_admin": ("dev:1",),
            "pauser": ("dev:2",),
            "unpauser": ("dev:2",),
            "freezer": ("dev:3",),
            "seizer": ("dev:4",),
            "attestor": ("dev:5",),
            "burner": ("dev:6",),
            "rescuer": ("deployer",),
            "upgrader": ("deployer",),
            "kyc": ("dev:7",),
        },
        minters=(MinterConfig("dev:8", 100_000_000 * unit),),
        supply_cap=10_000_000_000 * unit,
        max_attestation_age=30 * 86_400,
        attestation=AttestationConfig(
            amount=1_000_000_000 * unit,
            report_hash=_keccak(b"pkr-pilot dev reserves report"),
        ),
        mint_desk=MintDeskConfig(
            enabled=True,
            admin="deployer",
            admin_delay=0,
            makers=("dev:9",),
            checkers=("dev:7", "dev:8"),
            allowance=1_000_000_000 * unit,
            threshold=100_000 * unit,
            approvals_required=2,
            daily_direct_limit=1_000_000 * unit,
            request_ttl=86_400,
            exempt=True,
        ),
        timelock=TimelockConfig(enabled=False),
        limits_enabled=False,
        allowlist_enabled=False,
        tiers=(
            TierLimits(1, 200_000 * unit, 25_000 * unit),
            TierLimits(2, 500_000 * unit, 50_000 * unit),
            TierLimits(3, 10_000_000 * unit, 1_000_000 * unit),
        ),
        exempt=("dev:8",),
        source="built-in dev default",
    )


def _keccak(data: bytes) -> bytes:
    from eth_utils.crypto import keccak

    return bytes(keccak(data))


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def default_config_path(root: Path, network_name: str) -> Path:
    """``deploy/<network>.toml`` below the project root."""
    return root / "deploy" / f"{network_name}.toml"


def load_deploy_config(path: Path) -> DeployConfig:
    """Read and validate a deploy config file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"deploy config {path} not found", hint="see deploy/example.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", hint="fix the TOML syntax") from None
    return parse_deploy_config(data, source=str(path))


_TOP_KEYS = {
    "schema_version", "ref", "token", "admin", "roles", "minters", "supply", "attestation",
    "mint_desk", "timelock", "controls", "tiers", "exempt",
}


def parse_deploy_config(data: Mapping[str, Any], *, source: str = "<dict>") -> DeployConfig:
    """Validate the parsed TOML ``data`` into a :class:`DeployConfig`."""
    where = source
    _known(data, _TOP_KEYS, where)
    version = data.get("schema_version", CONFIG_SCHEMA_VERSION)
    if version != CONFIG_SCHEMA_VERSION:
        raise ConfigError(f"{where}: schema_version {version!r} is not supported (expected {CONFIG_SCHEMA_VERSION})")

    token_t = _table(data, "token", where)
    _known(token_t, {"contract", "name", "symbol", "decimals", "upgrade_call"}, f"{where} [token]")
    defaults = TokenConfig()
    token = TokenConfig(
        contract=_str(token_t.get("contract", defaults.contract), f"{where} token.contract"),
        name=_str(token_t.get("name", defaults.name), f"{where} token.name"),
        symbol=_str(token_t.get("symbol", defaults.symbol), f"{where} token.symbol"),
        decimals=_int(token_t.get("decimals", defaults.decimals), f"{where} token.decimals", 0, 36),
        upgrade_call=_upgrade_call(token_t.get("upgrade_call"), f"{where} token.upgrade_call"),
    )
    if len(token.name.encode()) > 31:
        raise ConfigError(f"{where}: token.name is {len(token.name.encode())} bytes; the EIP-712 name allows 31")
    if not token.symbol:
        raise ConfigError(f"{where}: token.symbol is empty")
    dec = token.decimals

    admin_t = _table(data, "admin", where)
    _known(admin_t, {"account", "delay"}, f"{where} [admin]")
    admin = _account(admin_t.get("account", "deployer"), f"{where} admin.account")
    admin_delay = _int(admin_t.get("delay", 86_400), f"{where} admin.delay", 0, 2**48 - 1)

    roles_t = _table(data, "roles", where)
    _known(roles_t, set(TOKEN_ROLES), f"{where} [roles]")
    roles = {name: _accounts(value, f"{where} roles.{name}") for name, value in roles_t.items()}

    minters = []
    for i, row in enumerate(_rows(data, "minters", where)):
        w = f"{where} minters[{i}]"
        _known(row, {"account", "allowance"}, w)
        minters.append(
            MinterConfig(
                account=_account(_required(row, "account", w), f"{w}.account"),
                allowance=_amount(_required(row, "allowance", w), dec, f"{w}.allowance", max_units=2**128 - 1),
            )
        )

    supply_t = _table(data, "supply", where)
    _known(supply_t, {"cap", "max_attestation_age"}, f"{where} [supply]")
    supply_cap = _amount(supply_t.get("cap", 0), dec, f"{where} supply.cap", max_units=2**96 - 1)
    max_age = _int(supply_t.get("max_attestation_age", 86_400), f"{where} supply.max_attestation_age", 0, 2**64 - 1)

    attestation = None
    if "attestation" in data:
        att_t = _table(data, "attestation", where)
        _known(att_t, {"amount", "report_hash", "as_of"}, f"{where} [attestation]")
        as_of = att_t.get("as_of")
        attestation = AttestationConfig(
            amount=_amount(_required(att_t, "amount", f"{where} [attestation]"), dec, f"{where} attestation.amount", max_units=2**128 - 1),
            report_hash=_bytes32(_required(att_t, "report_hash", f"{where} [attestation]"), f"{where} attestation.report_hash"),
            as_of=None if as_of is None else _int(as_of, f"{where} attestation.as_of", 0, 2**64 - 1),
        )

    desk_t = _table(data, "mint_desk", where)
    _known(
        desk_t,
        {"enabled", "admin", "admin_delay", "makers", "checkers", "allowance", "threshold",
         "approvals_required", "daily_direct_limit", "request_ttl", "exempt"},
        f"{where} [mint_desk]",
    )
    dd = MintDeskConfig()
    mint_desk = MintDeskConfig(
        enabled=_bool(desk_t.get("enabled", bool(desk_t)), f"{where} mint_desk.enabled"),
        admin=_account(desk_t.get("admin", admin), f"{where} mint_desk.admin"),
        admin_delay=_int(desk_t.get("admin_delay", admin_delay), f"{where} mint_desk.admin_delay", 0, 2**48 - 1),
        makers=_accounts(desk_t.get("makers", []), f"{where} mint_desk.makers"),
        checkers=_accounts(desk_t.get("checkers", []), f"{where} mint_desk.checkers"),
        allowance=_amount(desk_t.get("allowance", 0), dec, f"{where} mint_desk.allowance", max_units=2**128 - 1),
        threshold=_amount(desk_t.get("threshold", 0), dec, f"{where} mint_desk.threshold", max_units=2**96 - 1),
        approvals_required=_int(desk_t.get("approvals_required", dd.approvals_required), f"{where} mint_desk.approvals_required", 1, 255),
        daily_direct_limit=_amount(desk_t.get("daily_direct_limit", 0), dec, f"{where} mint_desk.daily_direct_limit", max_units=2**96 - 1),
        request_ttl=_int(desk_t.get("request_ttl", dd.request_ttl), f"{where} mint_desk.request_ttl", 1, 2**32 - 1),
        exempt=_bool(desk_t.get("exempt", True), f"{where} mint_desk.exempt"),
    )

    tl_t = _table(data, "timelock", where)
    _known(tl_t, {"enabled", "min_delay", "proposers", "executors"}, f"{where} [timelock]")
    timelock = TimelockConfig(
        enabled=_bool(tl_t.get("enabled", bool(tl_t)), f"{where} timelock.enabled"),
        min_delay=_int(tl_t.get("min_delay", TimelockConfig.min_delay), f"{where} timelock.min_delay", 0, 2**255),
        proposers=_accounts(tl_t.get("proposers", []), f"{where} timelock.proposers"),
        executors=_accounts(tl_t.get("executors", []), f"{where} timelock.executors", allow_anyone=True),
    )

    controls_t = _table(data, "controls", where)
    _known(controls_t, {"limits", "allowlist"}, f"{where} [controls]")

    tiers = []
    seen: set[int] = set()
    for i, row in enumerate(_rows(data, "tiers", where)):
        w = f"{where} tiers[{i}]"
        _known(row, {"tier", "max_balance", "max_daily_outflow"}, w)
        tier = _int(_required(row, "tier", w), f"{w}.tier", 0, 255)
        if tier in seen:
            raise ConfigError(f"{w}: tier {tier} is defined twice")
        seen.add(tier)
        tiers.append(
            TierLimits(
                tier=tier,
                max_balance=_amount(row.get("max_balance", "unlimited"), dec, f"{w}.max_balance", max_units=UNLIMITED, unlimited=True),
                max_daily_outflow=_amount(row.get("max_daily_outflow", "unlimited"), dec, f"{w}.max_daily_outflow", max_units=UNLIMITED, unlimited=True),
            )
        )

    ref_text = data.get("ref", "pkr-pilot deploy")
    try:
        from ..amounts import parse_ref

        ref = parse_ref(_str(ref_text, f"{where} ref"))
    except UserInputError as exc:
        raise ConfigError(f"{where} ref: {exc.message}") from None

    config = DeployConfig(
        token=token,
        admin=admin,
        admin_delay=admin_delay,
        roles=roles,
        minters=tuple(minters),
        supply_cap=supply_cap,
        max_attestation_age=max_age,
        attestation=attestation,
        mint_desk=mint_desk,
        timelock=timelock,
        limits_enabled=_bool(controls_t.get("limits", False), f"{where} controls.limits"),
        allowlist_enabled=_bool(controls_t.get("allowlist", False), f"{where} controls.allowlist"),
        tiers=tuple(tiers),
        exempt=_accounts(data.get("exempt", []), f"{where} exempt"),
        ref=ref,
        source=source,
    )
    _check_consistency(config, where)
    return config


def _check_consistency(config: DeployConfig, where: str) -> None:
    """Rules that need more than one field (the rest are checked on chain, by name)."""
    if config.timelock.enabled:
        for role in ("upgrader", "unpauser"):
            extra = [a for a in config.roles.get(role, ()) if a != "timelock"]
            if extra:
                raise ConfigError(
                    f"{where}: roles.{role} lists {', '.join(extra)} but [timelock] is enabled",
                    hint=f"the timelock holds {TOKEN_ROLES[role]}; remove roles.{role}",
                )
        if config.admin not in ("deployer", "timelock"):
            raise ConfigError(
                f"{where}: admin.account is {config.admin} but [timelock] is enabled",
                hint="the timelock becomes the token admin; remove admin.account",
            )
        if not config.timelock.proposers:
            raise ConfigError(f"{where}: [timelock] needs at least one proposer")
    else:
        for ref in _all_refs(config):
            if ref == "timelock":
                raise ConfigError(f"{where}: 'timelock' is used but [timelock] is not enabled")
    if not config.mint_desk.enabled:
        for ref in _all_refs(config):
            if ref == "mint_desk":
                raise ConfigError(f"{where}: 'mint_desk' is used but [mint_desk] is not enabled")
    minters = {m.account for m in config.minters}
    if len(minters) != len(config.minters):
        raise ConfigError(f"{where}: a minter is listed twice")
    clash = minters & set(config.role_holders("attestor"))
    if clash:
        raise ConfigError(
            f"{where}: {', '.join(sorted(clash))} is both a minter and an attestor",
            hint="separation of duties: the token refuses it (MinterAttestorConflict)",
        )
    if config.mint_desk.enabled:
        desk_clash = (set(config.mint_desk.makers) | set(config.mint_desk.checkers)) & set(config.role_holders("attestor"))
        if desk_clash:
            raise ConfigError(
                f"{where}: {', '.join(sorted(desk_clash))} is both a desk maker or checker and an attestor",
                hint="separation of duties: the desk refuses it (AttestorConflict)",
            )


def _all_refs(config: DeployConfig) -> Iterable[str]:
    yield config.admin
    for holders in config.roles.values():
        yield from holders
    yield from (m.account for m in config.minters)
    yield from config.exempt
    yield config.mint_desk.admin
    yield from config.mint_desk.makers
    yield from config.mint_desk.checkers
    yield from config.timelock.proposers
    yield from config.timelock.executors


# ---------------------------------------------------------------------------
# Field parsers (each names the field in its error)
# ---------------------------------------------------------------------------


def _known(table: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}", hint=f"known keys: {', '.join(sorted(keys))}")


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: [{key}] must be a table")
    return value


def _rows(data: Mapping[str, Any], key: str, where: str) -> Sequence[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        raise ConfigError(f"{where}: {key} must be an array of tables ([[{key}]])")
    return value


def _required(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: {key} is required")
    return table[key]


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {value!r}")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{what} must be true or false, got {value!r}")
    return value


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{what} must be between {low} and {high}, got {value}")
    return value


def _amount(value: Any, decimals: int, what: str, *, max_units: int, unlimited: bool = False) -> int:
    """Token units (int or decimal string) to base units, exactly."""
    if unlimited and value == "unlimited":
        return UNLIMITED
    if isinstance(value, bool) or isinstance(value, float):
        raise ConfigError(f"{what} must be an integer or a quoted decimal string, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{what} is negative")
        units: int = int(value) * int(10**decimals)
    elif isinstance(value, str):
        try:
            units = parse_amount(value, decimals=decimals, allow_zero=True)
        except UserInputError as exc:
            raise ConfigError(f"{what}: {exc.message}") from None
    else:
        raise ConfigError(f"{what} must be an amount, got {value!r}")
    if units > max_units:
        raise ConfigError(f"{what} is too large ({units} base units > {max_units})")
    return units


def _upgrade_call(value: Any, what: str) -> tuple[str, tuple[Any, ...]] | None:
    """``{ function = "initializeV2", args = [42] }`` -> ("initializeV2", (42,))."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what} must be a table: {{ function = \"name\", args = [...] }}")
    _known(value, {"function", "args"}, what)
    function = _str(_required(value, "function", what), f"{what}.function")
    args = value.get("args", [])
    if not isinstance(args, list):
        raise ConfigError(f"{what}.args must be a list")
    if any(isinstance(a, float) for a in args):
        raise ConfigError(f"{what}.args: floats are not allowed (use integers or strings)")
    return function, tuple(args)


def _bytes32(value: Any, what: str) -> bytes:
    text = _str(value, what)
    if not (text.startswith("0x") and len(text) == 66):
        raise ConfigError(f"{what} must be 0x followed by 64 hex digits")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise ConfigError(f"{what} is not valid hex") from None


def _account(value: Any, what: str, *, allow_anyone: bool = False) -> str:
    """Validate an account reference; addresses come back checksummed."""
    text = _str(value, what).strip()
    if text in _SPECIAL_REFS or (allow_anyone and text == "anyone"):
        return text
    if text.startswith("dev:"):
        if not text[4:].isdigit():
            raise ConfigError(f"{what}: {text!r} is not dev:N")
        return text
    if text.startswith("keystore:"):
        if not text[9:]:
            raise ConfigError(f"{what}: keystore name missing")
        return text
    try:
        return parse_address(text, what=what)
    except UserInputError as exc:
        raise ConfigError(exc.message, hint="use 0x…, dev:N, keystore:NAME, deployer, timelock or mint_desk") from None


def _accounts(value: Any, what: str, *, allow_anyone: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{what} must be a list of accounts")
    out = tuple(_account(v, f"{what}[{i}]", allow_anyone=allow_anyone) for i, v in enumerate(value))
    if len(set(out)) != len(out):
        raise ConfigError(f"{what} lists an account twice")
    return out
