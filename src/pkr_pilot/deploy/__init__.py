"""Deploy the PilotRupee stack: plan, write-ahead journal, records, verify, upgrade with a layout check.

::

    from pkr_pilot.config import load_project
    from pkr_pilot.chain import connect
    from pkr_pilot.deploy import deploy_stack, load_deployment

    project = load_project()
    with connect(project, "localhost") as chain:
        deployment = deploy_stack(chain, deployer_signer, project)   # built-in dev config on a dev chain
    deployment.token.address                                            # the proxy
    load_deployment(project, "localhost").contracts["MintDesk"].address

Public API:

- :func:`deploy_stack` -> :class:`Deployment` (frozen: network, chain id, address + ABI per contract)
- :func:`run_deploy` -> :class:`DeployResult` (also the per-step outcomes, notices and timing)
- :func:`load_deployment`, :class:`RecordStore`, :class:`ContractRecord`
- :class:`DeployConfig`, :func:`load_deploy_config`, :func:`dev_default_config`, :func:`resolve_deploy_config`
- :func:`verify_stack` -> :class:`~.verify.VerifyReport` (code, roles, minters, settings)
- :func:`check_compatible`, :func:`extract_layout` (storage layouts, ERC-7201 namespaces included)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError, DeploymentError
from .config import DeployConfig, default_config_path, dev_default_config, load_deploy_config
from .journal import DeployJournal
from .layout import check_compatible, extract_layout
from .records import ContractRecord, DeployedContract, Deployment, RecordStore, load_deployment
from .runner import STEP_DONE, DeployResult, DeployRunner, StepOutcome, StepStatus

if TYPE_CHECKING:
    from web3 import Web3

    from ..chain.identity import ChainIdentity
    from ..compile import CompileResult
    from ..config import NetworkConfig, Project
    from ..progress import Progress
    from ..tx import TxPolicy, TxSigner
    from .verify import VerifyReport

__all__ = [
    "STEP_DONE",
    "ContractRecord",
    "DeployConfig",
    "DeployResult",
    "DeployedContract",
    "Deployment",
    "RecordStore",
    "StepOutcome",
    "StepStatus",
    "check_compatible",
    "deploy_stack",
    "dev_default_config",
    "extract_layout",
    "load_deploy_config",
    "load_deployment",
    "record_store",
    "records_network",
    "resolve_deploy_config",
    "resolve_records",
    "run_deploy",
    "verify_stack",
]

#: Sentinel: "use the default records folder for this network".
DEFAULT = Path("<default>")


class ChainLike(Protocol):
    """What the deploy needs from :class:`pkr_pilot.chain.Chain`."""

    @property
    def w3(self) -> Web3: ...

    @property
    def network(self) -> NetworkConfig: ...

    @property
    def chain_id(self) -> int: ...

    @property
    def is_dev(self) -> bool: ...


def resolve_deploy_config(
    project: Project, network_name: str, *, path: Path | None, is_dev: bool, decimals_hint: int = 2
) -> DeployConfig:
    """``--config FILE``, else ``deploy/<network>.toml``, else the built-in dev default (dev chains only)."""
    if path is not None:
        return load_deploy_config(path)
    candidate = default_config_path(project.paths.root, network_name)
    if candidate.is_file():
        return load_deploy_config(candidate)
    if is_dev:
        return dev_default_config(decimals_hint)
    raise ConfigError(
        f"no deploy config for network {network_name!r} ({candidate.relative_to(project.paths.root)} not found)",
        hint="copy deploy/example.toml there, or pass --config FILE",
    )


def record_store(project: Project, network: NetworkConfig, folder: Path | None = DEFAULT) -> RecordStore:
    """The records of ``network``: ``deployments/<name>/``, or in memory for an ephemeral node."""
    name = network.deployments_name
    if folder is DEFAULT:
        folder = None if network.backend in ("anvil", "memory") else project.paths.network_deployments(name)
    return RecordStore(folder, name)


def resolve_records(
    project: Project,
    chain: ChainLike,
    deployments_dir: Path | None = DEFAULT,
    *,
    new_stack: bool = False,
    identity: ChainIdentity | None = None,
    reading: bool = False,
) -> tuple[RecordStore, str | None]:
    """The records folder of the stack on ``chain``, and a notice when it is not the network's own.

    The one place a network is matched with a deployments folder, for deploy and for every command
    that reads records (``reading=True``: ops, disburse, verify, export, reconcile). A folder is
    bound to one chain (chain id + genesis hash). When the network's own folder does not record a
    stack on this chain and another folder does:

    * the network is a URL (``--network http://…``) and exactly one such folder exists: that
      folder is used (the notice says so);
    * otherwise deploy is refused, naming the folder(s), unless ``new_stack`` asks for a second
      stack on purpose (it goes to this network's own folder); a command that reads records is
      refused naming them (two folders on one chain: which stack is meant is the user's call).

    A reader whose own folder holds records gets that folder (the chain id check stays its own).
    Ephemeral networks (a managed anvil, the memory chain) keep records in memory: no question.
    """
    from ..chain.identity import read_identity
    from .records import bound_folders

    network = chain.network
    store = record_store(project, network, deployments_dir)
    if store.folder is None or (reading and (deployments_dir is not DEFAULT or store.has_contents())):
        return store, None
    identity = identity or read_identity(chain.w3, int(chain.chain_id))
    if store.recorded_identity() == identity and store.has_contents():
        return store, None
    others = bound_folders(store.folder.parent, identity, w3=chain.w3, exclude=store.folder)
    if not others or new_stack:
        return store, None
    names = ", ".join(f"deployments/{p.name}" for p in others)
    is_url = network.name not in project.networks
    if is_url and len(others) == 1 and not store.has_contents():
        folder = others[0]
        return (
            RecordStore(folder, folder.name),
            f"{network.url} serves chain {identity.short}, already deployed as deployments/{folder.name}: using that folder",
        )
    use = others[0].name
    if reading:
        raise DeploymentError(
            f"nothing is deployed in deployments/{network.deployments_name}, but chain {identity.short} reached "
            f"through network {network.name!r} holds the stack{'s' if len(others) > 1 else ''} recorded in {names}",
            hint=f"name the network of the stack meant, e.g. --network {use}",
        )
    raise DeploymentError(
        f"chain {identity.short} reached through network {network.name!r} already holds a stack recorded in {names}",
        hint=f"use --network {use} to work on that stack, or pass --new-stack to deploy a second stack "
        f"recorded in deployments/{network.deployments_name}",
    )


def records_network(network: NetworkConfig, store: RecordStore) -> NetworkConfig:
    """``network`` bound to the folder :func:`resolve_records` chose (its journals and caches live there)."""
    from dataclasses import replace

    if store.folder is None or store.network == network.deployments_name:
        return network
    return replace(network, records_folder=store.network)


def run_deploy(
    chain: ChainLike,
    signer: TxSigner,
    project: Project,
    config: DeployConfig | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    signers: Mapping[str, TxSigner] | Iterable[TxSigner] | None = None,
    upgrade: bool = False,
    deployments_dir: Path | None = DEFAULT,
    compiled: CompileResult | None = None,
    policy: TxPolicy | None = None,
    new_stack: bool = False,
) -> DeployResult:
    """Deploy (or finish, or check) the stack described by ``config`` on ``chain``.

    ``signer`` is the deployer. Steps that need another role's key (configuring
    minters needs MINTER_ADMIN_ROLE, the first attestation ATTESTOR_ROLE, an upgrade
    UPGRADER_ROLE) are signed by the deployer if the config gives it that role, else by
    a matching key from ``signers``; on a dev chain the ``dev:N`` keys named by the
    config are added automatically.

    ``deployments_dir``: default ``deployments/<network>/`` (in memory for an ephemeral
    ``anvil``/``memory`` backend); ``None`` forces in-memory records and journal.
    The folder is bound to the chain (chain id and genesis hash); a chain already deployed under
    another folder is used or refused as :func:`resolve_records` says; ``new_stack`` deploys a
    second stack on purpose.
    """
    from eth_utils.address import to_checksum_address

    from ..chain.identity import read_identity
    from ..compile import compile_project
    from ..config import DEV_CHAIN_IDS
    from ..tx import TxPolicy
    from ._signers import dev_signer, refs_of, resolve_accounts, signer_map

    network = chain.network
    chain_id = int(chain.chain_id)
    is_dev = bool(chain.is_dev)
    if config is None:
        config = resolve_deploy_config(project, network.deployments_name, path=None, is_dev=is_dev)
    compiled = compiled if compiled is not None else compile_project(project)
    deployer = str(to_checksum_address(signer.address))
    refs = refs_of(config)
    accounts = resolve_accounts(
        refs, deployer=deployer, chain_id=chain_id, dev_chain_ids=DEV_CHAIN_IDS, keystores=project.paths.keystores
    )
    keys = signer_map(signers)
    if is_dev:
        for ref in refs:
            if ref.startswith("dev:") and accounts[ref] not in keys:
                keys[accounts[ref]] = dev_signer(int(ref[4:]), chain_id=chain_id, dev_chain_ids=DEV_CHAIN_IDS)
    identity = read_identity(chain.w3, chain_id)
    store, notice = resolve_records(project, chain, deployments_dir, new_stack=new_stack, identity=identity)
    journal = DeployJournal.in_folder(store.folder)

    runner = DeployRunner(
        w3=chain.w3,
        chain_id=chain_id,
        identity=identity,
        network=store.network,
        is_dev=is_dev,
        root=project.paths.root,
        config=config,
        artifacts=compiled.artifacts,
        solc_long_version=compiled.solc.long_version,
        build_info=compiled.read_build_info,
        deployer=signer,
        signers=keys,
        accounts=accounts,
        store=store,
        journal=journal,
        policy=policy or TxPolicy.from_network(network),
        upgrade=upgrade,
        progress=progress,
        foreign=_foreign_addresses(store, identity),
    )
    if notice is not None:
        runner.notice(notice)
    return runner.run()


def _foreign_addresses(store: RecordStore, identity: ChainIdentity) -> frozenset[str]:
    """Contracts recorded by other folders on the same chain: never taken for this stack's own."""
    from .records import bound_folders

    if store.folder is None:
        return frozenset()
    out: set[str] = set()
    for folder in bound_folders(store.folder.parent, identity, exclude=store.folder):
        out.update(r.address.lower() for r in RecordStore(folder, folder.name).records())
    return frozenset(out)


def deploy_stack(
    chain: ChainLike,
    signer: TxSigner,
    project: Project,
    config: DeployConfig | None = None,
    **options: Any,
) -> Deployment:
    """Deploy the stack and return its frozen :class:`Deployment` (``options``: those of :func:`run_deploy`)."""
    return run_deploy(chain, signer, project, config, **options).deployment



def verify_stack(
    chain: ChainLike,
    project: Project,
    config: DeployConfig | None = None,
    *,
    deployments_dir: Path | None = DEFAULT,
    compiled: CompileResult | None = None,
) -> VerifyReport:
    """Compare the deployed stack with the local build and the deploy config (see :mod:`.verify`)."""
    from ..compile import compile_project
    from ..config import DEV_CHAIN_IDS
    from ._signers import refs_of, resolve_accounts
    from .verify import verify_deployment

    is_dev = bool(chain.is_dev)
    store, _notice = resolve_records(project, chain, deployments_dir, reading=True)
    if config is None:
        config = resolve_deploy_config(project, store.network, path=None, is_dev=is_dev)
    compiled = compiled if compiled is not None else compile_project(project)
    deployer = _recorded_deployer(store)
    accounts = resolve_accounts(
        refs_of(config), deployer=deployer, chain_id=int(chain.chain_id), dev_chain_ids=DEV_CHAIN_IDS,
        keystores=project.paths.keystores,
    )
    return verify_deployment(chain.w3, store, config, compiled.artifacts, accounts)


def _recorded_deployer(store: RecordStore) -> str:
    from ..errors import DeploymentError

    record = store.read("PilotRupee_Proxy") or store.read("PilotRupee")
    if record is None:
        raise DeploymentError(
            f"nothing is deployed in deployments/{store.network}", hint="run `pkr-pilot deploy` first"
        )
    return record.deployer
