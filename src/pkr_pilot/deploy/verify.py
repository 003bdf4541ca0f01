"""``pkr-pilot verify``: does the chain hold what the local build and the deploy config say?

Checks, each reported as one :class:`VerifyCheck` (every mismatch is listed, not just the first):

* **code** — the runtime code of the proxy, of the implementation the proxy points at
  (read from the ERC-1967 slot, and compared with the record), of the MintDesk and of
  the timelock, against the local build. Immutables (listed by solc's
  ``immutableReferences``) are masked on both sides. A *full* match (every byte,
  metadata hash included, so the same sources and settings) passes; a *partial* match
  (the same executable code, only the CBOR metadata differs: a comment or whitespace
  changed since the deploy) also passes, with a note; anything else is a mismatch.
  We require the executable code to be identical, not the metadata, because the
  metadata hash covers comments and file paths, which do not change behaviour; the
  note keeps the difference visible.
* **roles** — for every token role (and the desk's maker/checker roles): the holders on
  chain, from ``RoleGranted``/``RoleRevoked`` events confirmed with ``hasRole``, equal
  the config's holders (missing and extra holders are both listed). The admin is
  ``defaultAdmin()``; a handover still waiting for acceptance is a mismatch that says so.
* **minters** — every configured minter (and the desk) is a minter with the configured
  allowance; a minter on chain that the config does not name is listed too.

``verify`` is a health check: it separates **configuration drift** (a mismatch: exit 7)
from **operational state**, listed but not failing:

* an allowance lower than configured (or than the last journaled reconfiguration) was
  spent by mints: operational;
* a minter configured, reconfigured or removed by a transaction that the network's
  operations journal (``deployments/<network>/operations.jsonl``) records as a confirmed
  ``pkr-pilot minter …`` operation is operational; the same change made behind the
  toolkit's back (no journaled transaction) is drift;
* code, roles and settings that differ from the build and the config are always drift.
* **settings** — supply cap, attestation age, tier limits, limits/allowlist modes,
  exemptions, desk policy, timelock delay, proposers and executors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from ..errors import ChainError, ChainIdMismatch, ContractRevert, DeploymentError
from ..human import jsonable
from ._code import compare_code
from .config import TOKEN_ROLES, DeployConfig
from .plan import DESK, DESK_ROLES, IMPLEMENTATION_SLOT, TIMELOCK, TOKEN, TOKEN_IMPL, TOKEN_PROXY
from .records import ContractRecord, RecordStore

if TYPE_CHECKING:
    from web3 import Web3

    from ..compile import Artifacts

__all__ = ["VerifyCheck", "VerifyReport", "verify_deployment"]


@dataclass(frozen=True)
class VerifyCheck:
    """One comparison between the chain and the build or config."""

    kind: str  # code | roles | minters | settings
    subject: str
    ok: bool
    expected: Any = None
    actual: Any = None
    note: str | None = None
    #: The chain differs from the config because of operations (allowance spent, a journaled
    #: minter change): listed, but ``ok``.
    operational: bool = False

    def describe(self) -> str:
        mark = "MISMATCH" if not self.ok else ("operational" if self.operational else "ok")
        text = f"[{mark}] {self.kind}: {self.subject}"
        if not self.ok or self.operational:
            text += f": configured {_show(self.expected)}, on chain {_show(self.actual)}"
        if self.note:
            text += f" ({self.note})"
        return text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "subject": self.subject, "ok": self.ok}
        if self.operational:
            out["operational"] = True
        if not self.ok or self.note or self.operational:
            out["expected"] = jsonable(self.expected)
            out["actual"] = jsonable(self.actual)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class VerifyReport:
    network: str
    chain_id: int
    checks: tuple[VerifyCheck, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def mismatches(self) -> list[VerifyCheck]:
        """Configuration drift: what makes ``verify`` exit 7."""
        return [c for c in self.checks if not c.ok]

    @property
    def operational(self) -> list[VerifyCheck]:
        """Differences explained by operations (listed, not failing)."""
        return [c for c in self.checks if c.ok and c.operational]

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "chainId": self.chain_id,
            "ok": self.ok,
            "mismatches": [c.to_json() for c in self.mismatches],
            "operational": [c.to_json() for c in self.operational],
            "checks": [c.to_json() for c in self.checks],
        }


def verify_deployment(
    w3: Web3,
    store: RecordStore,
    config: DeployConfig,
    artifacts: Artifacts,
    accounts: Mapping[str, str],
) -> VerifyReport:
    """Compare the chain with the records in ``store``, the local ``artifacts`` and ``config``.

    ``accounts`` resolves the config's account references (see ``_signers.resolve_accounts``).
    """
    chain_id = int(w3.eth.chain_id)
    recorded = store.recorded_chain_id()
    if recorded is None:
        raise DeploymentError(f"nothing is deployed in deployments/{store.network}", hint="run pkr-pilot deploy first")
    if recorded != chain_id:
        raise ChainIdMismatch(recorded, chain_id, where=f"deployments/{store.network}/.chainId")
    v = _Verifier(w3, store, config, artifacts, accounts)
    v.run()
    return VerifyReport(store.network, chain_id, tuple(v.checks))


class _Verifier:
    def __init__(
        self, w3: Web3, store: RecordStore, config: DeployConfig, artifacts: Artifacts, accounts: Mapping[str, str]
    ) -> None:
        self.w3 = w3
        self.store = store
        self.config = config
        self.artifacts = artifacts
        self.accounts = dict(accounts)
        self.checks: list[VerifyCheck] = []
        self.addresses: dict[str, str] = {}
        self.bad_code: set[str] = set()

    def add(
        self, kind: str, subject: str, expected: Any, actual: Any, *, ok: bool | None = None, note: str | None = None,
        operational: bool = False,
    ) -> None:
        self.checks.append(
            VerifyCheck(kind, subject, expected == actual if ok is None else ok, expected, actual, note, operational)
        )

    def journaled_txs(self) -> set[str]:
        """Hashes of the transactions the operations journal records as confirmed operations."""
        if self.store.folder is None:
            return set()
        from ..ops.journal import OperationsJournal

        journal = OperationsJournal.in_folder(self.store.folder)
        if not journal.path.exists():
            return set()
        return {str(line["tx_hash"]).lower() for line in journal.entries()
                if line.get("status") == "confirmed" and line.get("tx_hash")}

    def account(self, ref: str) -> str:
        if ref == "timelock":
            return self.addresses.get(TIMELOCK, "<no timelock deployed>")
        if ref == "mint_desk":
            return self.addresses.get(DESK, "<no desk deployed>")
        if ref == "anyone":
            return "0x0000000000000000000000000000000000000000"
        return self.accounts.get(ref, ref)

    def run(self) -> None:
        token = self._record(TOKEN)
        if token is None:
            return
        self.addresses[TOKEN] = token.address
        desk = self.store.read(DESK)
        if desk is not None:
            self.addresses[DESK] = desk.address
        timelock = self.store.read(TIMELOCK)
        if timelock is not None:
            self.addresses[TIMELOCK] = timelock.address
        self._code(token, desk, timelock)
        self._section("token roles", lambda: self._token_roles(token))
        self._section("minters", lambda: self._minters(token))
        self._section("token settings", lambda: self._settings(token))
        if self.config.mint_desk.enabled and desk is not None and desk.address not in self.bad_code:
            self._section("desk", lambda: self._desk(desk))
        if self.config.timelock.enabled and timelock is not None and timelock.address not in self.bad_code:
            self._section("timelock", lambda: self._timelock(timelock))

    def _section(self, what: str, check: Callable[[], None]) -> None:
        """Run one group of checks; a contract that cannot be read is one mismatch, not a crash."""
        try:
            check()
        except (ChainError, ContractRevert) as exc:
            self.add("settings", what, "readable", None, ok=False, note=f"could not be read: {exc}")

    def _record(self, name: str) -> ContractRecord | None:
        record = self.store.read(name)
        if record is None:
            self.add("code", name, "a deployment record", None, ok=False, note=f"deployments/{self.store.network}/{name}.json missing")
        return record

    # -- code ------------------------------------------------------------------------------
    def _code(self, token: ContractRecord, desk: ContractRecord | None, timelock: ContractRecord | None) -> None:
        self._code_of("PilotRupee proxy", token.address, "PilotRupeeProxy")
        raw = bytes(self.w3.eth.get_storage_at(token.address, IMPLEMENTATION_SLOT))  # type: ignore[arg-type]
        impl = str(to_checksum_address(raw[-20:]))
        self.add("code", "proxy implementation slot", token.implementation, impl)
        impl_record = self.store.read(TOKEN_IMPL)
        if impl_record is not None and impl_record.address != impl:
            self.add("code", f"{TOKEN_IMPL}.json address", impl, impl_record.address)
        self._code_of("PilotRupee implementation", impl, self.config.token.contract)
        if self.config.mint_desk.enabled or desk is not None:
            if desk is None:
                self.add("code", "MintDesk", "deployed", None, ok=False, note="no MintDesk record")
            else:
                self._code_of("MintDesk", desk.address, "MintDesk")
        if self.config.timelock.enabled or timelock is not None:
            if timelock is None:
                self.add("code", "PilotTimelock", "deployed", None, ok=False, note="no PilotTimelock record")
            else:
                self._code_of("PilotTimelock", timelock.address, "PilotTimelock")
        proxy_record = self.store.read(TOKEN_PROXY)
        if proxy_record is not None and proxy_record.address != token.address:
            self.add("code", f"{TOKEN_PROXY}.json address", token.address, proxy_record.address)

    def _code_of(self, subject: str, address: str, artifact_name: str) -> None:
        artifact = self.artifacts[artifact_name]
        code = bytes(self.w3.eth.get_code(address))  # type: ignore[arg-type]
        match = compare_code(code, artifact.deployed_bytecode, artifact.immutable_references)
        if match == "full":
            self.add("code", f"{subject} at {address}", artifact_name, artifact_name, ok=True, note="full match")
        elif match == "partial":
            self.add(
                "code", f"{subject} at {address}", artifact_name, artifact_name, ok=True,
                note="partial match: same executable code, metadata differs (sources changed in comments or paths)",
            )
        else:
            self.bad_code.add(address)
            self.add(
                "code", f"{subject} at {address}", f"runtime code of local {artifact_name}",
                "no code" if not code else f"different code ({len(code)} bytes)", ok=False,
            )

    # -- roles -----------------------------------------------------------------------------
    def _token_roles(self, token: ContractRecord) -> None:
        from ..contracts import Token

        handle = Token(self.w3, token.address, token.abi, from_block=max(0, (token.block_number or 0)))
        on_chain = handle.role_holders()
        for role, constant in TOKEN_ROLES.items():
            expected = sorted({self.account(r) for r in self.config.role_holders(role)})
            actual = sorted(on_chain.get(constant, []))
            self.add("roles", f"token {constant}", expected, actual)
        admin = handle.default_admin()
        want = self.account(self.config.final_admin)
        note = None
        if admin != want:
            pending, schedule = handle.view("pendingDefaultAdmin")
            if str(pending) == want:
                note = f"handover to {want} pending: it must call acceptDefaultAdminTransfer() after {int(schedule)}"
        self.add("roles", "token DEFAULT_ADMIN_ROLE (defaultAdmin)", want, admin, note=note)

    def _minters(self, token: ContractRecord) -> None:
        from ..contracts import Token

        handle = Token(self.w3, token.address, token.abi, from_block=max(0, (token.block_number or 0)))
        expected: dict[str, int] = {self.account(m.account): m.allowance for m in self.config.minters}
        if self.config.mint_desk.enabled:
            expected[self.account("mint_desk")] = self.config.mint_desk.allowance
        journaled = self.journaled_txs()
        last: dict[str, Any] = {}  # minter -> its latest MinterConfigured / MinterRemoved event
        minted: dict[str, int] = {}  # minter -> minted since that event (each mint lowers the allowance)
        for event in handle.events(("MinterConfigured", "MinterRemoved", "Minted")):
            who = str(event.args["minter"])
            if event.name == "Minted":
                minted[who] = minted.get(who, 0) + int(event.args["amount"])
            else:
                last[who], minted[who] = event, 0

        def by_operation(who: str) -> Any:
            event = last.get(who)
            return event if event is not None and event.tx_hash.lower() in journaled else None

        for who, allowance in expected.items():
            operation = by_operation(who)
            if not handle.is_minter(who):
                self.add("minters", f"minter {who}", f"allowance {allowance}", "not a minter", ok=operation is not None,
                         operational=operation is not None,
                         note=None if operation is None else f"removed by the journaled operation {operation.tx_hash}")
                continue
            configured_by = last.get(who)
            baseline = allowance if configured_by is None else int(configured_by.args.get("allowance", allowance))
            self._allowance(who, allowance, handle.minter_allowance(who), baseline, minted.get(who, 0), operation)
        for extra in sorted(set(last) - set(expected)):
            if not handle.is_minter(extra):
                continue
            operation = by_operation(extra)
            actual = handle.minter_allowance(extra)
            self.add("minters", f"minter {extra}", "not a minter", f"allowance {actual}", ok=operation is not None,
                     operational=operation is not None,
                     note=None if operation is None else f"added by the journaled operation {operation.tx_hash}")

    def _allowance(self, who: str, configured: int, actual: int, baseline: int, spent: int, operation: Any) -> None:
        """One minter's allowance against the config.

        ``baseline`` is the allowance its last ``MinterConfigured`` set and ``spent`` what it minted
        since. The difference is operational when mints explain it and the baseline is the config's
        (or a journaled reconfiguration's); anything else is drift.
        """
        subject = f"minterAllowance({who})"
        if actual == configured:
            self.add("minters", subject, configured, actual)
            return
        explained = actual == max(0, baseline - spent)
        if explained and (baseline == configured or operation is not None):
            notes = [] if baseline == configured else [f"reconfigured to {baseline} by the journaled operation {operation.tx_hash}"]
            if spent:
                notes.append(f"{spent} spent by mints")
            self.add("minters", subject, configured, actual, ok=True, operational=True, note="; ".join(notes))
            return
        self.add("minters", subject, configured, actual)

    # -- settings --------------------------------------------------------------------------
    def _settings(self, token: ContractRecord) -> None:
        from ..contracts import Token

        handle = Token(self.w3, token.address, token.abi)
        c = self.config
        self.add("settings", "name", c.token.name, handle.view("name"))
        self.add("settings", "symbol", c.token.symbol, handle.symbol)
        self.add("settings", "decimals", c.token.decimals, handle.decimals)
        self.add("settings", "supplyCap", c.supply_cap, handle.supply_cap())
        self.add("settings", "maxAttestationAge", c.max_attestation_age, handle.max_attestation_age())
        for tier in c.tiers:
            limits = handle.tier_limits(tier.tier)
            self.add(
                "settings", f"tierLimits({tier.tier})", (tier.max_balance, tier.max_daily_outflow),
                (limits.max_balance, limits.max_daily_outflow),
            )
        self.add("settings", "limitsEnabled", c.limits_enabled, handle.limits_enabled())
        self.add("settings", "allowlistEnabled", c.allowlist_enabled, handle.allowlist_enabled())
        exempt = [self.account(r) for r in c.exempt]
        if c.mint_desk.enabled and c.mint_desk.exempt:
            exempt.append(self.account("mint_desk"))
        for who in exempt:
            self.add("settings", f"isExempt({who})", True, handle.is_exempt(who))

    def _desk(self, desk: ContractRecord | None) -> None:
        from ..contracts import Desk

        if desk is None:
            return
        handle = Desk(self.w3, desk.address, desk.abi, from_block=max(0, (desk.block_number or 0)))
        cfg = self.config.mint_desk
        on_chain = handle.role_holders()
        for group, constant in DESK_ROLES.items():
            expected = sorted({self.account(r) for r in getattr(cfg, group)})
            self.add("roles", f"desk {constant}", expected, sorted(on_chain.get(constant, [])))
        self._desk_attestors(on_chain)
        admin = str(handle.view("defaultAdmin"))
        self.add("roles", "desk DEFAULT_ADMIN_ROLE (defaultAdmin)", self.account(cfg.admin), admin)
        policy = handle.policy()
        self.add(
            "settings", "desk approvalPolicy",
            (cfg.threshold, cfg.approvals_required, cfg.daily_direct_limit, cfg.request_ttl),
            (policy.threshold, policy.approvals_required, policy.daily_direct_limit, policy.request_ttl),
        )
        self.add("settings", "desk token", self.addresses[TOKEN], str(handle.view("token")))

    def _desk_attestors(self, desk_roles: Mapping[str, Sequence[str]]) -> None:
        """Separation of duties: no desk maker or checker holds ATTESTOR_ROLE on the token (the desk
        refuses to act for one, but the token cannot refuse the grant, so the state is reported)."""
        from ..contracts import Token, role_id

        token = self.store.read(TOKEN)
        if token is None:
            return
        handle = Token(self.w3, token.address, token.abi)
        attestor = role_id("ATTESTOR_ROLE")
        people = sorted({a for constant in DESK_ROLES.values() for a in desk_roles.get(constant, [])})
        both = [a for a in people if handle.has_role(attestor, a)]
        self.add(
            "roles", "desk makers and checkers holding the token's ATTESTOR_ROLE", [], both,
            note="separation of duties: revoke one of the roles (the desk refuses their actions)" if both else None,
        )

    def _timelock(self, timelock: ContractRecord | None) -> None:
        from ..contracts import Timelock

        if timelock is None:
            return
        handle = Timelock(self.w3, timelock.address, timelock.abi, from_block=max(0, (timelock.block_number or 0)))
        cfg = self.config.timelock
        self.add("settings", "timelock minDelay", cfg.min_delay, handle.min_delay())
        on_chain = handle.role_holders()
        expected_proposers = sorted({self.account(r) for r in cfg.proposers})
        self.add("roles", "timelock PROPOSER_ROLE", expected_proposers, sorted(on_chain.get("PROPOSER_ROLE", [])))
        expected_executors = sorted({self.account(r) for r in cfg.executors})
        self.add("roles", "timelock EXECUTOR_ROLE", expected_executors, sorted(on_chain.get("EXECUTOR_ROLE", [])))
        admins = sorted(a for a in on_chain.get("DEFAULT_ADMIN_ROLE", []) if a != timelock.address)
        self.add("roles", "timelock DEFAULT_ADMIN_ROLE (besides itself)", [], admins)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


