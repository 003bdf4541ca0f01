"""Project paths and settings: compiler, named networks.

Everything is read from ``pkr-pilot.toml`` at the project root (the folder
holding ``contracts/`` and ``package.json``). Nothing is read at import time:
call :func:`load_project` and pass the result around.

Environment overrides (documented in the README's configuration reference):

``PKR_PILOT_ROOT``
    the project folder, when the current directory is not inside it.
``PKR_PILOT_SOLC``
    an explicit solc binary; wins over every other resolution step.
``PKR_PILOT_NETWORKS``
    another TOML file holding ``[networks.*]`` tables, added to the project's (a table of the
    same name replaces the project's one).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

__all__ = [
    "DEV_CHAIN_IDS",
    "CompilerSettings",
    "NetworkConfig",
    "Project",
    "ProjectPaths",
    "load_project",
]

#: Chain ids on which the public anvil test keys may sign.
DEV_CHAIN_IDS: frozenset[int] = frozenset({31337, 1337})

CONFIG_FILE = "pkr-pilot.toml"

Backend = Literal["anvil", "memory", "rpc"]


class _Below:
    """A read-only path below the project root (a descriptor of :class:`ProjectPaths`)."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, paths: ProjectPaths, owner: type | None = None) -> Path:
        return paths.root.joinpath(*self.parts)


@dataclass(frozen=True)
class ProjectPaths:
    """Where the project's files live. All paths are absolute."""

    root: Path

    contracts = _Below("contracts")
    build = _Below("build")
    deployments = _Below("deployments")
    node_modules = _Below("node_modules")
    config_file = _Below(CONFIG_FILE)
    #: Project-local runtime state: node state files, logs, keystores.
    state = _Below(".pkr-pilot")
    keystores = _Below(".pkr-pilot", "keystores")
    #: Project-local py-solc-x folder (``SOLCX_BINARY_PATH`` for Ape): the Node-backed solc wrapper.
    solcx = _Below(".pkr-pilot", "solcx")

    def network_deployments(self, network: str) -> Path:
        return self.deployments / network

    @classmethod
    def discover(cls, start: Path | None = None, env: Mapping[str, str] | None = None) -> ProjectPaths:
        """Find the project root: ``PKR_PILOT_ROOT``, else walk up from ``start`` (cwd)."""
        env = os.environ if env is None else env
        explicit = env.get("PKR_PILOT_ROOT")
        if explicit:
            root = Path(explicit).expanduser().resolve()
            if not (root / CONFIG_FILE).is_file():
                raise ConfigError(
                    f"PKR_PILOT_ROOT={explicit} has no {CONFIG_FILE}",
                    hint="point it at the pkr-pilot checkout",
                )
            return cls(root)
        here = (start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if (candidate / CONFIG_FILE).is_file() and (candidate / "contracts").is_dir():
                return cls(candidate)
        raise ConfigError(
            f"no {CONFIG_FILE} found in {here} or its parents",
            hint="run inside the pkr-pilot checkout or set PKR_PILOT_ROOT",
        )


@dataclass(frozen=True)
class CompilerSettings:
    """One compiler configuration for every backend (the EVM version is explicit)."""

    solc_version: str = "0.8.28"
    evm_version: str = "cancun"
    optimizer: bool = True
    optimizer_runs: int = 200
    via_ir: bool = False
    #: Explicit solc binary (``--solc`` or ``PKR_PILOT_SOLC``); wins over resolution.
    solc_path: Path | None = None

    @property
    def hardfork(self) -> str:
        """The anvil / py-evm hardfork matching :attr:`evm_version`."""
        return self.evm_version


@dataclass(frozen=True)
class NetworkConfig:
    """A named network from ``[networks.NAME]`` or an ad-hoc URL.

    ``backend`` is ``anvil`` (a managed, ephemeral local node), ``memory``
    (in-process py-evm) or ``rpc`` (any JSON-RPC URL).
    """

    name: str
    backend: Backend
    url: str | None = None
    chain_id: int | None = None
    confirmations: int = 1
    #: Fee caps in wei; None means "ask the node" (still EIP-1559).
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    timeout: float = 120.0
    #: Managed anvil only: seconds between blocks (None: automine).
    block_time: int | None = None
    #: Managed anvil only: mine nothing unless asked (``--no-mining``).
    no_mining: bool = False
    #: Account spec per role name (``deployer``, ``minter`` …) or ``default``.
    accounts: Mapping[str, str] = field(default_factory=dict)
    #: The deployments folder that records this network's chain when it is not the network's own
    #: (a URL resolved by chain identity: ``pkr_pilot.deploy.resolve_records``).
    records_folder: str | None = None

    @property
    def deployments_name(self) -> str:
        """Folder name under deployments/ (URLs are folded to a safe name, or resolved to the folder of their chain)."""
        return self.records_folder or _safe_name(self.name)


@dataclass(frozen=True)
class Project:
    """Paths plus parsed settings; the one object commands are given."""

    paths: ProjectPaths
    compiler: CompilerSettings
    networks: Mapping[str, NetworkConfig]

    def network(self, name_or_url: str) -> NetworkConfig:
        """Resolve ``--network``: a configured name, or an http(s)/ws(s) URL."""
        if name_or_url in self.networks:
            return self.networks[name_or_url]
        if name_or_url.startswith(("http://", "https://", "ws://", "wss://")):
            return NetworkConfig(name=_url_name(name_or_url), backend="rpc", url=name_or_url)
        known = ", ".join(sorted(self.networks)) or "none configured"
        raise ConfigError(
            f"unknown network {name_or_url!r}",
            hint=f"use one of: {known}; or pass a JSON-RPC URL",
        )


def load_project(
    start: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    solc: str | None = None,
) -> Project:
    """Read ``pkr-pilot.toml`` (and ``PKR_PILOT_NETWORKS`` / ``PKR_PILOT_SOLC``)."""
    env = os.environ if env is None else env
    paths = ProjectPaths.discover(start, env)
    data = _read_toml(paths.config_file)
    compiler = _compiler(data.get("compiler", {}), solc or env.get("PKR_PILOT_SOLC"), paths.root)
    tables = dict(data.get("networks", {}))
    extra = env.get("PKR_PILOT_NETWORKS")
    if extra:
        tables.update(_read_toml(Path(extra).expanduser()).get("networks", {}))
    networks = _networks(tables)
    return Project(paths=paths, compiler=compiler, networks=networks)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", hint="fix the TOML syntax") from None


def _compiler(table: Mapping[str, Any], solc: str | None, root: Path) -> CompilerSettings:
    known = {"solc_version", "evm_version", "optimizer", "optimizer_runs", "via_ir"}
    _reject_unknown(table, known, "[compiler]")
    defaults = CompilerSettings()
    solc_path: Path | None = None
    if solc:
        solc_path = Path(solc).expanduser()
        if not solc_path.is_absolute():
            solc_path = (Path.cwd() / solc_path).resolve()
    return CompilerSettings(
        solc_version=str(table.get("solc_version", defaults.solc_version)),
        evm_version=str(table.get("evm_version", defaults.evm_version)),
        optimizer=bool(table.get("optimizer", defaults.optimizer)),
        optimizer_runs=int(table.get("optimizer_runs", defaults.optimizer_runs)),
        via_ir=bool(table.get("via_ir", defaults.via_ir)),
        solc_path=solc_path,
    )


_NETWORK_KEYS = {
    "backend",
    "url",
    "chain_id",
    "confirmations",
    "max_fee_gwei",
    "max_priority_fee_gwei",
    "timeout",
    "block_time",
    "no_mining",
    "accounts",
}


def _networks(tables: Mapping[str, Any]) -> dict[str, NetworkConfig]:
    out: dict[str, NetworkConfig] = {}
    for name, table in tables.items():
        where = f"[networks.{name}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where} must be a table")
        _reject_unknown(table, _NETWORK_KEYS, where)
        url = table.get("url")
        backend = table.get("backend", "rpc" if url else None)
        if backend not in ("anvil", "memory", "rpc"):
            raise ConfigError(f"{where}: backend must be anvil, memory or rpc (or give a url)")
        if backend == "rpc" and not url:
            raise ConfigError(f"{where}: an rpc network needs a url")
        accounts = table.get("accounts", {})
        if not isinstance(accounts, Mapping):
            raise ConfigError(f"{where}: accounts must be a table of role = account")
        out[name] = NetworkConfig(
            name=name,
            backend=backend,
            url=url,
            chain_id=_opt_int(table.get("chain_id"), f"{where} chain_id"),
            confirmations=int(table.get("confirmations", 1)),
            max_fee_per_gas=_gwei(table.get("max_fee_gwei"), f"{where} max_fee_gwei"),
            max_priority_fee_per_gas=_gwei(
                table.get("max_priority_fee_gwei"), f"{where} max_priority_fee_gwei"
            ),
            timeout=float(table.get("timeout", 120)),
            block_time=_opt_int(table.get("block_time"), f"{where} block_time"),
            no_mining=bool(table.get("no_mining", False)),
            accounts={str(k): str(v) for k, v in accounts.items()},
        )
    return out


def _reject_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}",
            hint=f"known keys: {', '.join(sorted(known))}",
        )


def _opt_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be an integer, got {value!r}")
    return value


def _gwei(value: Any, what: str) -> int | None:
    """Gwei from TOML (integer or decimal string) to wei, exactly."""
    if value is None:
        return None
    if isinstance(value, float):
        raise ConfigError(f"{what} must be an integer or a quoted decimal string, not a float")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{what} is not a number: {value!r}") from None
    wei = amount * Decimal(10**9)
    if wei != wei.to_integral_value() or wei < 0:
        raise ConfigError(f"{what} must be a non-negative amount with at most 9 decimals")
    return int(wei)


def _url_name(url: str) -> str:
    host = url.split("://", 1)[1].rstrip("/")
    return _safe_name(host)


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
