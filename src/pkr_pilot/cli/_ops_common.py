"""Plumbing shared by the operations commands: common options, opening an operator, rendering.

Every operations command is thin: parse its arguments, open an :class:`~pkr_pilot.ops.Operator`
(chain, deployment records, signer, journal) with :func:`operator_session`, call one function of
:mod:`pkr_pilot.ops`, and render the :class:`~pkr_pilot.ops.OperationResult` with :func:`render`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._context import CliContext, load_signer

if TYPE_CHECKING:
    from ..config import NetworkConfig, Project
    from ..contracts import Stack
    from ..ops import OperationResult, Operator, Preview, RunOptions

__all__ = [
    "OpArgs",
    "json_option",
    "money",
    "network_option",
    "op_options",
    "operator_session",
    "render",
    "render_json",
    "stack_session",
]

F = TypeVar("F", bound=Callable[..., Any])


def network_option(f: F) -> F:
    return click.option(
        "--network",
        "network_name",
        required=True,
        envvar="PKR_PILOT_NETWORK",
        help="Network name from pkr-pilot.toml, or a JSON-RPC URL (env PKR_PILOT_NETWORK).",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON only.")(f)


def op_options(*, ref: bool = True, ref_help: str | None = None) -> Callable[[F], F]:
    """The options every state-changing command takes."""

    def decorate(f: F) -> F:
        options = [
            network_option,
            click.option(
                "--account",
                "account_spec",
                help="Signer: keystore NAME / keystore:NAME, an Ape account ape:ALIAS, or dev:N on a local dev chain "
                "(default: the network's accounts table for this action's role, else accounts.default).",
            ),
            click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation."),
            click.option("--dry-run", is_flag=True, help="Simulate and show the outcome; send nothing."),
            json_option,
            click.option(
                "--idempotency-key",
                help="Key that makes a re-run safe (default: the ref). A new key deliberately repeats an "
                "operation (never a mint of the same ref); the key is then the ref carried on chain (at most "
                "32 bytes), so the chain says whether it was done, whatever the journal holds.",
            ),
            click.option(
                "--replace",
                is_flag=True,
                help="Speed up this operation's stuck transaction (same nonce, higher fees).",
            ),
        ]
        if ref:
            options.append(
                click.option(
                    "--ref",
                    required=True,
                    help=ref_help
                    or "Reference: bank transfer id, case number or report hash (text <= 32 bytes, or 0x + 64 hex).",
                )
            )
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@dataclass(frozen=True)
class OpArgs:
    """The common options of one invocation."""

    network_name: str
    account_spec: str | None
    yes: bool
    dry_run: bool
    as_json: bool
    idempotency_key: str | None
    replace: bool

    @classmethod
    def pop(cls, kwargs: dict[str, Any]) -> OpArgs:
        """Take the common options out of a command's keyword arguments."""
        return cls(
            network_name=kwargs.pop("network_name"),
            account_spec=kwargs.pop("account_spec"),
            yes=kwargs.pop("yes"),
            dry_run=kwargs.pop("dry_run"),
            as_json=kwargs.pop("as_json"),
            idempotency_key=kwargs.pop("idempotency_key"),
            replace=kwargs.pop("replace"),
        )

    def run_options(self) -> RunOptions:
        from ..ops import RunOptions

        return RunOptions(
            yes=self.yes, dry_run=self.dry_run, idempotency_key=self.idempotency_key, replace=self.replace
        )


@contextmanager
def stack_session(cli: CliContext, network_name: str) -> Iterator[tuple[Project, NetworkConfig, Any, Stack]]:
    """Connect to ``network_name`` and load its deployed stack (records must match the chain id).

    The records are those :func:`pkr_pilot.deploy.resolve_records` finds for the chain: the network's
    own folder, or for a URL the folder that records its chain (chain id + genesis hash); the network
    yielded is bound to that folder, so the journals and caches used are the stack's own.
    """
    from ..chain import connect
    from ..contracts import EventCache, Stack
    from ..deploy import RecordStore, records_network, resolve_records
    from ..errors import ChainIdMismatch, UserInputError

    project = cli.project()
    network = project.network(network_name)
    if network.backend in ("anvil", "memory"):
        raise UserInputError(
            f"network {network.name!r} is an ephemeral {network.backend} chain that lives only as long as one command",
            hint="run `pkr-pilot node` and use --network localhost (or a JSON-RPC URL)",
        )
    own = RecordStore(project.paths.network_deployments(network.deployments_name), network.deployments_name)
    if network.name in project.networks and not own.has_contents():
        raise _nothing_deployed(network.deployments_name, network_name)  # a named network: no need to connect
    with connect(project, network) as chain:
        store, notice = resolve_records(project, chain, reading=True)
        if notice:
            click.echo(f"note: {notice}", err=True)
        network = records_network(network, store)
        records = {r.name: r for r in store.records() if not r.name.endswith(("_Implementation", "_Proxy"))}
        if "PilotRupee" not in records:
            raise _nothing_deployed(store.network, network_name)
        recorded = store.recorded_chain_id()
        if recorded is not None and recorded != chain.chain_id:
            raise ChainIdMismatch(recorded, chain.chain_id, where=f"deployments/{store.network}/.chainId")
        assert store.folder is not None
        cache = EventCache(store.folder / ".cache" / "events")
        yield project, network, chain, Stack.from_deployment(chain.w3, records, cache=cache)


def _nothing_deployed(folder: str, network_name: str) -> Exception:
    from ..errors import DeploymentError

    return DeploymentError(
        f"nothing is deployed in deployments/{folder}", hint=f"run `pkr-pilot deploy --network {network_name}` first"
    )


@contextmanager
def operator_session(cli: CliContext, args: OpArgs, action: str) -> Iterator[Operator]:
    """An Operator for ``action``: chain, stack, the signer for the action's role, the journal."""
    from ..ops import ACTION_ROLES, OperationsJournal, Operator
    from ..tx import Sender, TxPolicy

    with stack_session(cli, args.network_name) as (project, network, chain, stack):
        role = ACTION_ROLES.get(action, "default")
        signer = _load_signer(project, network, chain.chain_id, args.account_spec, role)
        sender = Sender(chain.w3, signer, decoder=stack.decoder, policy=TxPolicy.from_network(network),
                        chain_id=chain.chain_id)
        journal = OperationsJournal.in_folder(project.paths.network_deployments(network.deployments_name))
        yield Operator(
            stack,
            sender,
            journal,
            network=network.deployments_name,
            confirm=None if args.yes else _confirm_prompt(network.name, chain.chain_id),
            progress=lambda message: click.echo(message, err=True),
        )


def _load_signer(project: Project, network: NetworkConfig, chain_id: int, spec: str | None, role: str) -> Any:
    from ..errors import UserInputError

    chosen = spec or network.accounts.get(role) or network.accounts.get("default")
    if not chosen:
        raise UserInputError(
            f"no account to sign as {role}",
            hint=f"pass --account keystore:NAME (or dev:N on a local dev chain), or set "
            f"accounts.{role} or accounts.default in [networks.{network.name}]",
        )
    return load_signer(project, chosen, chain_id=chain_id, role=role)


def _confirm_prompt(network: str, chain_id: int) -> Callable[[Preview], bool]:
    def confirm(preview: Preview) -> bool:
        plan = preview.plan
        click.echo(f"{plan.action} on {network} (chain id {chain_id}) from {preview.sender}", err=True)
        width = max((len(k) for k in plan.display), default=0)
        for key, value in plan.display.items():
            click.echo(f"  {key:<{width}}  {value}", err=True)
        for warning in plan.warnings:
            click.echo(f"WARNING: {warning}", err=True)
        if preview.replacing:
            click.echo(f"  replaces stuck transaction {preview.replacing} with higher fees", err=True)
        else:
            gas = f", gas ≈ {preview.gas_estimate:,}" if preview.gas_estimate else ""
            click.echo(f"simulation: ok{gas}" + (f", returns {preview.returns}" if preview.returns is not None else ""), err=True)
        return click.confirm("Send?", default=False, err=True)

    return confirm


def render(
    result: OperationResult, *, as_json: bool, network: str | None = None, stack: Stack | None = None
) -> None:
    """Print one operation's outcome: a short summary, or its JSON (call inside the session)."""
    from ..ops import OperationStatus

    if as_json:
        data = result.to_json()
        if network is not None:
            data["network"] = network
        render_json(data)
        return
    before_only = () if result.status is OperationStatus.DRY_RUN else _STATE_KEYS
    shown = ", ".join(f"{k}={v}" for k, v in result.display.items() if k not in before_only)
    head = {
        OperationStatus.CONFIRMED: "confirmed",
        OperationStatus.ALREADY_DONE: "already done (nothing sent)",
        OperationStatus.DRY_RUN: "dry run (nothing sent)",
    }[result.status]
    click.echo(f"{head}: {result.action}({shown})")
    if result.status is OperationStatus.DRY_RUN:
        gas = f" (gas ≈ {result.gas_estimate:,})" if result.gas_estimate else ""
        click.echo(f"  simulation: ok{gas}")
        for key, value in result.values.items():
            click.echo(f"  {key}: {value}")
        if result.note:
            click.echo(f"  note: {result.note}")
        return
    if result.tx_hash:
        where = f" in block {result.block}" if result.block is not None else ""
        nonce = f" (nonce {result.nonce})" if result.nonce is not None else ""
        gas = f", gas used {result.gas_used:,}" if result.gas_used else ""
        click.echo(f"  tx {result.tx_hash}{nonce}{where}{gas}")
    for key, value in result.values.items():
        click.echo(f"  {key.replace('_', ' ')}: {_value_text(key, value)}")
    if result.supply_after is not None:
        click.echo(f"  total supply after: {money(result.supply_after, stack)}")
    if stack is not None:
        after = state_after(result, stack)
        if after:
            click.echo(f"  now: {after}")
    if result.note:
        click.echo(f"  note: {result.note}")


#: Display keys that describe a desk request's state before the action (shown after it instead).
_STATE_KEYS = ("approvals", "status")


def state_after(result: OperationResult, stack: Stack) -> str | None:
    """The state the action left behind, read from the chain (``approvals 1/2, pending``).

    A confirmation shows what is true now, not the plan's state before the action.
    """
    from ..human import percent

    token, shown = stack.token, result.display
    action = result.action
    if action.startswith("mint-") and stack.desk is not None and "id" in result.args:
        req = stack.desk.request(int(result.args["id"]))
        return f"request #{req.id} approvals {req.approvals}/{req.approvals_needed}, {req.status.lower()}"
    if action == "mint-request" and stack.desk is not None and "request_id" in result.values:
        req = stack.desk.request(int(result.values["request_id"]))
        return f"request #{req.id} approvals {req.approvals}/{req.approvals_needed}, {req.status.lower()}"
    if action in ("freeze", "unfreeze", "freeze-amount", "unfreeze-amount"):
        return _holding(shown["account"], stack)
    if action == "seize":
        return f"{_holding(shown['from'], stack)}; {shown['to']} holds {money(token.balance_of(shown['to']), stack)}"
    if action in ("mint", "transfer"):
        return f"{shown['to']} holds {money(token.balance_of(shown['to']), stack)}"
    if action in ("pause", "unpause"):
        return "paused" if token.paused() else "not paused"
    if action in ("minter-configure", "minter-remove"):
        minter = shown["minter"]
        if not token.is_minter(minter):
            return f"{minter} is not a minter"
        return f"{minter} is a minter with allowance {money(token.minter_allowance(minter), stack)}"
    if action == "reserves-attest":
        reserves, supply = token.reserves().amount, token.total_supply()
        ratio = percent(reserves, supply) if supply else "n/a (no supply)"
        return f"reserves {money(reserves, stack)}, supply {money(supply, stack)}, collateralisation {ratio}"
    if action == "tier-set":
        return f"{shown['account']} is in tier {token.tier_of(shown['account'])}"
    if action in ("roles-grant", "roles-revoke"):
        handle = next((h for h in stack.handles() if h.name == shown.get("contract")), None)
        if handle is None:
            return None
        holds = handle.has_role(shown["role"], shown["account"])
        return f"{shown['account']} {'holds' if holds else 'does not hold'} {shown['role']}"
    return None


def _holding(account: str, stack: Stack) -> str:
    token = stack.token
    frozen = " (fully frozen)" if token.is_frozen(account) else ""
    return (f"{account}: balance {money(token.balance_of(account), stack)}, "
            f"frozen {money(token.frozen_balance_of(account), stack)}{frozen}")


def _value_text(key: str, value: Any) -> str:
    if key.endswith("_at") and isinstance(value, int) and value > 1:
        import datetime as dt

        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") + f" ({value})"
    return str(value)


def money(units: int, stack: Stack | None) -> str:
    """``1,250.50 PKRP`` with the token's decimals (base units when no stack is at hand)."""
    from ..amounts import format_amount

    if stack is None:
        return f"{units:,} base units"
    token = stack.token
    return f"{format_amount(units, decimals=token.decimals)} {token.symbol}"


def render_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))
