"""``pkr-pilot deploy`` and ``pkr-pilot verify``: parsing and rendering around :mod:`pkr_pilot.deploy`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliContext, pass_cli

if TYPE_CHECKING:
    from ..config import NetworkConfig, Project
    from ..deploy import DeployConfig
    from ..progress import Progress, ProgressLine
    from ..tx import TxSigner

__all__ = ["deploy_command", "verify_command"]

#: Config roles whose holder may have to sign a deploy step (see deploy.plan).
_SIGNING_ROLES = ("minter_admin", "attestor", "upgrader")


@click.command("deploy")
@click.option("--network", "network_name", required=True, help="Network name from pkr-pilot.toml, or a JSON-RPC URL.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Deploy config TOML (default: deploy/<network>.toml; built-in default on dev chains).")
@click.option("--account", "account_spec", help="Deployer: keystore NAME / keystore:NAME, an Ape account ape:ALIAS, or dev:N on a local dev chain (default: accounts.deployer of the network).")
@click.option("--upgrade", is_flag=True, help="Deploy a changed implementation and upgrade the proxy (after the storage-layout check).")
@click.option("--new-stack", is_flag=True, help="Deploy a second stack on a chain that another deployments/ folder already records.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON only (progress still goes to stderr).")
@pass_cli
def deploy_command(
    cli: CliContext,
    network_name: str,
    config_file: Path | None,
    account_spec: str | None,
    upgrade: bool,
    new_stack: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Deploy the stack (or finish an interrupted deploy); a re-run changes nothing."""
    from ..chain import connect
    from ..compile import compile_project
    from ..deploy import resolve_deploy_config, resolve_records, run_deploy

    project = cli.project()
    network = project.network(network_name)
    compiled = compile_project(project)
    with connect(project, network_name) as chain:
        store, _notice = resolve_records(project, chain, new_stack=new_stack)  # refuses a second stack early
        config = resolve_deploy_config(project, store.network, path=config_file, is_dev=chain.is_dev)
        deployer = _signer(project, network, chain, account_spec or _network_account(network, "deployer"), "deployer")
        signers = _role_signers(project, network, chain, config, deployer.address)
        if not yes:
            click.echo(
                f"Deploy to {network.name} (chain id {chain.chain_id}, records in deployments/{store.network}) "
                f"from {deployer.address}\n"
                f"config: {config.source}" + (" | with --upgrade" if upgrade else ""),
                err=True,
            )
            if not click.confirm("Continue?", default=False, err=True):
                raise click.exceptions.Abort()
        printer = _ProgressPrinter(quiet_count=as_json)
        try:
            result = run_deploy(
                chain,
                deployer,
                project,
                config,
                progress=printer,
                signers=signers,
                upgrade=upgrade,
                compiled=compiled,
                new_stack=new_stack,
            )
        finally:
            printer.close()
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    for notice in result.notices:
        click.echo(f"note: {notice}")
    if result.up_to_date:
        click.echo(f"{network.name}: up to date (nothing sent)")
    else:
        click.echo(
            f"{network.name}: {result.transactions_sent} transaction(s) sent in {result.seconds:.1f} s"
        )
    for name, contract in result.deployment.contracts.items():
        extra = f"  (implementation {contract.implementation})" if contract.implementation else ""
        click.echo(f"  {name:<14} {contract.address}{extra}")


@click.command("verify")
@click.option("--network", "network_name", required=True, help="Network name from pkr-pilot.toml, or a JSON-RPC URL.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Deploy config TOML (default as for deploy).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON only.")
@click.option("--all", "show_all", is_flag=True, help="List passing checks too.")
@pass_cli
def verify_command(cli: CliContext, network_name: str, config_file: Path | None, as_json: bool, show_all: bool) -> None:
    """Check the deployed code, roles, minters and settings; exit non-zero on any mismatch."""
    from ..chain import connect
    from ..deploy import resolve_deploy_config, resolve_records, verify_stack
    from ..errors import DeploymentError

    project = cli.project()
    network = project.network(network_name)
    with connect(project, network_name) as chain:
        store, notice = resolve_records(project, chain, reading=True)  # a URL: the folder of its chain
        if notice:
            click.echo(f"note: {notice}", err=True)
        config = resolve_deploy_config(project, store.network, path=config_file, is_dev=chain.is_dev)
        report = verify_stack(chain, project, config, deployments_dir=store.folder)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for check in report.checks:
            if show_all or not check.ok or check.operational:
                click.echo(check.describe())
        passed = len(report.checks) - len(report.mismatches)
        verdict = "verified" if report.ok else f"{len(report.mismatches)} mismatch(es)"
        if report.operational:
            verdict += f" ({len(report.operational)} operational change(s) listed, not drift)"
        click.echo(f"{network.name} (chain id {report.chain_id}): {passed}/{len(report.checks)} checks pass: {verdict}")
    if not report.ok:
        if as_json:  # the report on stdout is the JSON answer; "ok": false says why it exits 7
            raise click.exceptions.Exit(DeploymentError.exit_code)
        raise DeploymentError(
            f"{len(report.mismatches)} mismatch(es) between the chain and the local build / deploy config",
            hint="listed above" if not as_json else "see \"mismatches\" in the JSON",
        )


# --------------------------------------------------------------------------- helpers


class _ProgressPrinter:
    """The deploy's events on stderr: one line per step that did something (``[ 3/26] deploy MintDesk:
    sent 0x…``), notes, and a progress line of the steps done (count, rate, ETA; not with --json,
    whose stderr keeps the step lines: they name the transactions sent)."""

    def __init__(self, *, quiet_count: bool) -> None:
        self.quiet_count = quiet_count
        self.line: ProgressLine | None = None

    def __call__(self, event: Progress) -> None:
        from ..deploy import STEP_DONE
        from ..progress import ProgressLine

        if event.phase == "notice":
            self._say(f"note: {event.message}")
            return
        if self.line is None:
            self.line = ProgressLine("deploying: steps", event.total, quiet=self.quiet_count)
        if event.message:
            self._say(f"[{event.done:>2}/{event.total}] {event.message}")
        if event.phase in STEP_DONE:
            self.line.update(event.done)

    def _say(self, text: str) -> None:
        if self.line is not None and not self.quiet_count:
            self.line.note(text)
        else:
            click.echo(text, err=True)
            sys.stderr.flush()

    def close(self) -> None:
        if self.line is not None:
            self.line.close()


def _network_account(network: NetworkConfig, role: str) -> str | None:
    return network.accounts.get(role) or network.accounts.get("default")


def _signer(project: Project, network: NetworkConfig, chain: Any, spec: str | None, role: str) -> TxSigner:
    from ..errors import UserInputError

    if not spec:
        raise UserInputError(
            f"no account for the {role}",
            hint=f"pass --account keystore:NAME (or dev:N on a local dev chain), or set accounts.{role} in [networks.{network.name}]",
        )
    from ._context import load_signer

    return load_signer(project, spec, chain_id=chain.chain_id, role=role)


def _role_signers(
    project: Project, network: NetworkConfig, chain: Any, config: DeployConfig, deployer: str
) -> dict[str, TxSigner]:
    """Keys of role holders named in the network's ``accounts`` table (only roles a step may need)."""
    out: dict[str, TxSigner] = {}
    for role in _SIGNING_ROLES:
        spec = network.accounts.get(role)
        if spec and config.role_holders(role):
            signer = _signer(project, network, chain, spec, role)
            if signer.address != deployer:
                out[signer.address] = signer
    return out
