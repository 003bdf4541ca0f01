"""Deployment records in the hardhat-deploy layout, and the frozen :class:`Deployment`.

::

    deployments/<network>/
        .chainId                      the chain id, written once; a different chain is refused
        .chain.json                   the chain's identity (chain id + genesis block hash): the
                                      folder is bound to that one chain (see :func:`bound_folders`)
        .journal.jsonl                the write-ahead journal (see journal.py)
        PilotRupee.json               the proxy: proxy address, the implementation's ABI,
                                      "implementation", the initializer under "execute"
        PilotRupee_Implementation.json
        PilotRupee_Proxy.json         the proxy contract itself (ERC1967 proxy ABI and code)
        MintDesk.json, PilotTimelock.json
        solcInputs/<buildInfoId>.json the standard-JSON input, kept for verification

Every record carries ``schemaVersion``, the deploy transaction and block, the
deployer, constructor ``args``, the long compiler version, the build-info id, the
storage layout (implementations), the git commit and dirty flag, and a timestamp.
Files are written atomically (temporary file, fsync, ``os.replace``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._files import atomic_write_json, atomic_write_text
from ..chain.identity import ChainIdentity
from ..errors import ChainIdMismatch, DeploymentError

if TYPE_CHECKING:
    from web3 import Web3

    from ..config import Project

__all__ = [
    "RECORD_SCHEMA_VERSION",
    "ContractRecord",
    "DeployedContract",
    "Deployment",
    "GitInfo",
    "RecordStore",
    "bound_folders",
    "git_info",
    "load_deployment",
]

RECORD_SCHEMA_VERSION = 1
IDENTITY_SCHEMA_VERSION = 1
IDENTITY_FILE = ".chain.json"


@dataclass(frozen=True)
class GitInfo:
    commit: str | None
    dirty: bool | None

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "dirty": self.dirty}


def git_info(root: Path) -> GitInfo:
    """The checkout's HEAD commit and whether tracked files differ from it (None outside git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, timeout=30, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return GitInfo(None, None)
    return GitInfo(head or None, bool(status.strip()))


@dataclass(frozen=True)
class ContractRecord:
    """One ``deployments/<network>/<name>.json`` file."""

    name: str
    address: str
    abi: Sequence[Mapping[str, Any]]
    contract_name: str
    source_name: str
    transaction_hash: str | None
    block_number: int | None
    block_hash: str | None
    gas_used: int | None
    deployer: str
    args: Sequence[Any]
    chain_id: int
    solc_long_version: str | None
    build_info_id: str | None
    bytecode: str
    deployed_bytecode: str
    git: GitInfo
    timestamp: int
    implementation: str | None = None
    execute: Mapping[str, Any] | None = None
    storage_layout: Mapping[str, Any] | None = None
    immutable_references: Mapping[str, Any] | None = None
    #: Earlier implementations of a proxy (address, transaction), oldest first.
    history: Sequence[Mapping[str, Any]] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemaVersion": RECORD_SCHEMA_VERSION,
            "address": self.address,
            "abi": list(self.abi),
            "contractName": self.contract_name,
            "sourceName": self.source_name,
            "transactionHash": self.transaction_hash,
            "receipt": {
                "blockNumber": self.block_number,
                "blockHash": self.block_hash,
                "gasUsed": self.gas_used,
                "from": self.deployer,
            },
            "deployer": self.deployer,
            "args": list(self.args),
            "chainId": self.chain_id,
            "solcLongVersion": self.solc_long_version,
            "buildInfoId": self.build_info_id,
            "solcInputHash": self.build_info_id,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "git": self.git.to_json(),
            "timestamp": self.timestamp,
        }
        if self.implementation is not None:
            out["implementation"] = self.implementation
        if self.execute is not None:
            out["execute"] = dict(self.execute)
        if self.storage_layout is not None:
            out["storageLayout"] = self.storage_layout
        if self.immutable_references is not None:
            out["immutableReferences"] = self.immutable_references
        if self.history:
            out["history"] = [dict(h) for h in self.history]
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> ContractRecord:
        version = data.get("schemaVersion")
        if version != RECORD_SCHEMA_VERSION:
            raise DeploymentError(
                f"record {name}.json has schemaVersion {version!r}, expected {RECORD_SCHEMA_VERSION}",
                hint="re-deploy to a fresh network folder, or upgrade pkr-pilot",
            )
        receipt = data.get("receipt") or {}
        git = data.get("git") or {}
        try:
            return cls(
                name=name,
                address=str(data["address"]),
                abi=tuple(data["abi"]),
                contract_name=str(data.get("contractName", name)),
                source_name=str(data.get("sourceName", "")),
                transaction_hash=data.get("transactionHash"),
                block_number=receipt.get("blockNumber"),
                block_hash=receipt.get("blockHash"),
                gas_used=receipt.get("gasUsed"),
                deployer=str(data.get("deployer", receipt.get("from", ""))),
                args=tuple(data.get("args", ())),
                chain_id=int(data["chainId"]),
                solc_long_version=data.get("solcLongVersion"),
                build_info_id=data.get("buildInfoId"),
                bytecode=str(data.get("bytecode", "0x")),
                deployed_bytecode=str(data.get("deployedBytecode", "0x")),
                git=GitInfo(git.get("commit"), git.get("dirty")),
                timestamp=int(data.get("timestamp", 0)),
                implementation=data.get("implementation"),
                execute=data.get("execute"),
                storage_layout=data.get("storageLayout"),
                immutable_references=data.get("immutableReferences"),
                history=tuple(data.get("history", ())),
                extra=data.get("extra", {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"record {name}.json is malformed: {exc}") from None


@dataclass(frozen=True)
class DeployedContract:
    """Name, address and ABI of one deployed contract (the proxy address for a proxy)."""

    name: str
    address: str
    abi: Sequence[Mapping[str, Any]]
    implementation: str | None = None


@dataclass(frozen=True)
class Deployment:
    """What other modules need to talk to a deployed stack: frozen, no chain handle inside.

    >>> d = Deployment("local", 31337, {"PilotRupee": DeployedContract("PilotRupee", "0x" + "11" * 20, ())})
    >>> d.token.name, d.chain_id
    ('PilotRupee', 31337)
    """

    network: str
    chain_id: int
    contracts: Mapping[str, DeployedContract]

    def __post_init__(self) -> None:
        object.__setattr__(self, "contracts", MappingProxyType(dict(self.contracts)))

    def __getitem__(self, name: str) -> DeployedContract:
        try:
            return self.contracts[name]
        except KeyError:
            known = ", ".join(sorted(self.contracts)) or "none"
            raise DeploymentError(f"no contract {name!r} in the {self.network} deployment (have: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.contracts

    @property
    def token(self) -> DeployedContract:
        """The PilotRupee proxy (address) with the implementation's ABI."""
        return self["PilotRupee"]

    @property
    def mint_desk(self) -> DeployedContract | None:
        return self.contracts.get("MintDesk")

    @property
    def timelock(self) -> DeployedContract | None:
        return self.contracts.get("PilotTimelock")

    def addresses(self) -> dict[str, str]:
        return {name: c.address for name, c in self.contracts.items()}

    def to_json(self) -> dict[str, Any]:
        contracts: dict[str, Any] = {}
        for name, c in self.contracts.items():
            entry: dict[str, Any] = {"address": c.address}
            if c.implementation is not None:
                entry["implementation"] = c.implementation
            contracts[name] = entry
        return {"network": self.network, "chainId": self.chain_id, "contracts": contracts}


#: Records that are part of another record (not listed as contracts of a Deployment).
_AUXILIARY_SUFFIXES = ("_Implementation", "_NextImplementation", "_Proxy")


class RecordStore:
    """The ``deployments/<network>/`` folder, or an in-memory stand-in (``folder=None``).

    The in-memory form is used for ephemeral networks (a managed anvil or py-evm that
    dies with the process), where files would only describe a chain that no longer exists.
    """

    def __init__(self, folder: Path | None, network: str) -> None:
        self.folder = folder
        self.network = network
        self._memory: dict[str, ContractRecord] = {}
        self._memory_chain_id: int | None = None

    # -- chain id ---------------------------------------------------------------
    def recorded_chain_id(self) -> int | None:
        if self.folder is None:
            return self._memory_chain_id
        path = self.folder / ".chainId"
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            return None
        try:
            return int(text)
        except ValueError:
            raise DeploymentError(f"{path} does not hold a chain id: {text[:40]!r}") from None

    def check_chain_id(self, chain_id: int) -> None:
        """Refuse a folder recorded for another chain; record ``chain_id`` if new."""
        recorded = self.recorded_chain_id()
        if recorded is not None and recorded != chain_id:
            raise ChainIdMismatch(recorded, chain_id, where=f"deployments/{self.network}/.chainId")
        if recorded is None:
            if self.folder is None:
                self._memory_chain_id = chain_id
            else:
                atomic_write_text(self.folder / ".chainId", f"{chain_id}\n")

    # -- chain identity (chain id + genesis hash) ----------------------------------
    def recorded_identity(self) -> ChainIdentity | None:
        """The identity in ``.chain.json`` (None: in memory, or a folder written before it existed)."""
        if self.folder is None:
            return None
        path = self.folder / IDENTITY_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as exc:
            raise DeploymentError(f"{path} is not valid JSON: {exc}", hint="restore it from version control") from None
        if not isinstance(data, dict) or data.get("schemaVersion") != IDENTITY_SCHEMA_VERSION:
            raise DeploymentError(f"{path} has an unknown schema", hint="upgrade pkr-pilot, or restore the file")
        try:
            return ChainIdentity.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"{path} is malformed: {exc}", hint="restore it from version control") from None

    def bind(self, identity: ChainIdentity) -> None:
        """Record that this folder describes the chain ``identity`` (``.chain.json`` and ``.chainId``)."""
        self.check_chain_id(identity.chain_id)
        if self.folder is None or self.recorded_identity() == identity:
            return
        atomic_write_json(
            self.folder / IDENTITY_FILE,
            {"schemaVersion": IDENTITY_SCHEMA_VERSION, "network": self.network, **identity.to_json()},
        )

    def has_contents(self) -> bool:
        """True when the folder holds records or a deploy journal (something was deployed or started)."""
        if self.folder is None:
            return bool(self._memory)
        return bool(self.names()) or (self.folder / ".journal.jsonl").exists()

    # -- records ----------------------------------------------------------------
    def write(self, record: ContractRecord) -> None:
        self.check_chain_id(record.chain_id)
        if self.folder is None:
            self._memory[record.name] = record
            return
        atomic_write_json(self.folder / f"{record.name}.json", record.to_json())

    def remove(self, name: str) -> None:
        """Delete a record (a promoted next implementation)."""
        if self.folder is None:
            self._memory.pop(name, None)
            return
        (self.folder / f"{name}.json").unlink(missing_ok=True)

    def read(self, name: str) -> ContractRecord | None:
        if self.folder is None:
            return self._memory.get(name)
        path = self.folder / f"{name}.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as exc:
            raise DeploymentError(f"{path} is not valid JSON: {exc}") from None
        return ContractRecord.from_json(name, data)

    def names(self) -> list[str]:
        if self.folder is None:
            return sorted(self._memory)
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if not p.name.startswith("."))

    def records(self) -> Iterator[ContractRecord]:
        for name in self.names():
            record = self.read(name)
            if record is not None:
                yield record

    def write_solc_input(self, build_info_id: str, std_input: Mapping[str, Any]) -> None:
        """Keep the standard-JSON input for later verification (once per build)."""
        if self.folder is None:
            return
        path = self.folder / "solcInputs" / f"{build_info_id}.json"
        if not path.exists():
            atomic_write_json(path, std_input)

    def deployment(self) -> Deployment:
        """The frozen :class:`Deployment` of every primary record in the folder."""
        chain_id = self.recorded_chain_id()
        contracts: dict[str, DeployedContract] = {}
        for record in self.records():
            if record.name.endswith(_AUXILIARY_SUFFIXES):
                continue
            contracts[record.name] = DeployedContract(
                record.name, record.address, record.abi, record.implementation
            )
        if chain_id is None or not contracts:
            where = f"deployments/{self.network}" if self.folder is not None else f"network {self.network}"
            raise DeploymentError(
                f"nothing is deployed in {where}",
                hint=f"run `pkr-pilot deploy --network {self.network}` first",
            )
        return Deployment(self.network, chain_id, contracts)


def bound_folders(root: Path, identity: ChainIdentity, *, w3: Web3 | None = None, exclude: Path | None = None) -> list[Path]:
    """Folders under ``root`` (``deployments/``) that hold a stack on the chain ``identity``.

    A folder counts when its ``.chain.json`` names this identity and it holds records or a
    journal. A folder written before identities were recorded (``.chainId`` only) counts when
    its chain id matches and, given ``w3``, its token record has code on this chain.
    """
    if not root.is_dir():
        return []
    found: list[Path] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if exclude is not None and folder.resolve() == exclude.resolve():
            continue
        store = RecordStore(folder, folder.name)
        try:
            recorded = store.recorded_identity()
            chain_id = store.recorded_chain_id()
        except DeploymentError:
            continue  # a damaged folder is reported when it is used, not while looking at siblings
        if not store.has_contents():
            continue
        if recorded is not None:
            if recorded == identity:
                found.append(folder)
        elif chain_id == identity.chain_id and w3 is not None:
            token = store.read("PilotRupee_Proxy") or store.read("PilotRupee")
            if token is not None and w3.eth.get_code(token.address):  # type: ignore[arg-type]
                found.append(folder)
    return found


def load_deployment(project: Project, network_name: str) -> Deployment:
    """The deployment recorded in ``deployments/<network>/`` (network name or URL)."""
    folder_name = project.network(network_name).deployments_name
    store = RecordStore(project.paths.network_deployments(folder_name), folder_name)
    return store.deployment()
