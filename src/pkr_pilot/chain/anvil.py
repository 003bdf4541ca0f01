"""The managed anvil process: find the binary, start, wait until it answers, stop, restart.

Only the standard library is used here (no web3), so the CLI stays quick to import.

::

    from pkr_pilot.chain import AnvilNode, AnvilOptions

    with AnvilNode.for_project(project, AnvilOptions(state_file=path)) as node:
        node.url                  # http://127.0.0.1:<free port>
        node.restart()            # stop (state dumped) and start again from the state file

On Linux the node also stops when the process that started it is killed (via
``setpriv --pdeathsig``), so crash drills leave no orphaned anvil behind.

The node's output goes to ``.pkr-pilot/logs/anvil-<port>.log`` (or nowhere with
``log_dir=None``), with anvil's *Private Keys* and *Wallet* banner sections left
out: those are the public test keys, but pkr-pilot writes no key material. The
last lines are kept in memory so a failed start raises :class:`NodeStartError`
with what anvil said.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from ..accounts import DEV_ACCOUNT_COUNT, DEV_BALANCE_WEI, DEV_DERIVATION_PATH, DEV_MNEMONIC
from ..errors import ChainError, NodeStartError, ToolchainError
from ..transport import HttpTransport

if TYPE_CHECKING:
    from ..config import Project

__all__ = [
    "DEFAULT_CHAIN_ID",
    "AnvilNode",
    "AnvilOptions",
    "anvil_package_name",
    "find_anvil",
    "free_port",
]

DEFAULT_CHAIN_ID = 31337
#: Seconds to wait for a started anvil to answer eth_chainId.
START_TIMEOUT = 10.0
#: Seconds to wait after SIGINT (anvil dumps its state) before terminating harder.
STOP_TIMEOUT = 10.0

#: Managed nodes get a log file per port; older ones beyond this many are deleted.
LOGS_KEPT = 30
#: ``--max-persisted-states``: block states anvil may spill to disk beyond those it keeps in memory.
MAX_PERSISTED_STATES = 32

_PORT_IN_USE = "Address already in use"
_KEY_LINE = re.compile(r"\(\d+\) 0x[0-9a-fA-F]{64}")
_SECRET_SECTIONS = ("Private Keys", "Wallet")


# --------------------------------------------------------------------------- binary


def anvil_package_name(system: str | None = None, machine: str | None = None) -> str:
    """The npm platform package holding anvil for this machine, e.g. ``anvil-linux-amd64``."""
    system = (system or sys.platform).lower()
    machine = (machine or platform.machine()).lower()
    os_name = "darwin" if system.startswith("darwin") else "win32" if system.startswith("win") else "linux"
    arch = "arm64" if machine in ("arm64", "aarch64") else "amd64"
    return f"anvil-{os_name}-{arch}"


def find_anvil(node_modules: Path | None, *, path_env: str | None = None) -> Path:
    """``node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil``, else ``anvil`` on PATH.

    Raises:
        ToolchainError: neither exists (run ``make setup`` / ``npm ci``).
    """
    exe = "anvil.exe" if sys.platform.startswith("win") else "anvil"
    looked: list[str] = []
    if node_modules is not None:
        candidate = node_modules / "@foundry-rs" / anvil_package_name() / "bin" / exe
        looked.append(str(candidate))
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(exe, path=path_env)
    if on_path:
        return Path(on_path)
    looked.append("anvil on PATH")
    raise ToolchainError(
        f"anvil not found (looked for {' and '.join(looked)})",
        hint="run `make setup` (or `npm ci`) to install @foundry-rs/anvil",
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class AnvilOptions:
    """How to run anvil. Defaults: chain 31337, Cancun, the ten funded dev accounts, automine."""

    chain_id: int = DEFAULT_CHAIN_ID
    #: ``--hardfork``; take it from ``CompilerSettings.hardfork`` (the EVM version).
    hardfork: str = "cancun"
    host: str = "127.0.0.1"
    #: None: a free port chosen at start (kept across restarts).
    port: int | None = None
    #: Dev accounts to fund (10,000 ETH each) from the public test mnemonic.
    accounts: int = DEV_ACCOUNT_COUNT
    #: ``--state FILE``: load it if it exists, dump to it on exit.
    state_file: Path | None = None
    #: ``--state-interval N``: also dump every N seconds (survives a hard kill).
    state_interval: int | None = None
    #: Interval mining every N seconds (no automine).
    block_time: int | None = None
    #: Mine only when asked (``evm_mine``).
    no_mining: bool = False
    #: ``--max-persisted-states``: old block states anvil may spill to disk (it keeps the recent ones in
    #: memory); bounds the disk a long simulation uses.
    max_persisted_states: int = MAX_PERSISTED_STATES
    #: Where this node's spilled states go (``--cache-path``): a folder of its own under it is made at
    #: start and removed when the node stops. None: the system's temporary folder (never ``~/.foundry``).
    cache_root: Path | None = None
    #: Anything else to pass to anvil, verbatim.
    extra_args: tuple[str, ...] = ()

    def command(self, binary: Path, port: int, *, cache_path: Path | None = None) -> list[str]:
        """The anvil command line for ``port``."""
        args = [
            str(binary),
            "--host", self.host,
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            "--hardfork", self.hardfork,
            "--mnemonic", DEV_MNEMONIC,
            "--derivation-path", f"{DEV_DERIVATION_PATH}/",
            "--accounts", str(self.accounts),
            "--balance", str(DEV_BALANCE_WEI // 10**18),
            "--color", "never",
        ]  # fmt: skip
        if "--prune-history" not in self.extra_args:  # anvil refuses both (pruning keeps no disk states)
            args += ["--max-persisted-states", str(self.max_persisted_states)]
        if self.state_file is not None:
            args += ["--state", str(self.state_file)]
        if self.state_interval is not None:
            args += ["--state-interval", str(self.state_interval)]
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        if self.no_mining:
            args.append("--no-mining")
        if cache_path is not None:
            args += ["--cache-path", str(cache_path)]
        args += list(self.extra_args)
        return args


# --------------------------------------------------------------------------- node


class AnvilNode:
    """One anvil process, started and stopped by pkr-pilot.

    Use it as a context manager (stopped on exit, on an exception and on Ctrl-C),
    or call :meth:`start` / :meth:`stop`. A node that is never stopped is killed
    when the interpreter exits.
    """

    def __init__(
        self,
        binary: Path,
        options: AnvilOptions | None = None,
        *,
        log_dir: Path | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.binary = binary
        self.options = options or AnvilOptions()
        self.log_dir = log_dir
        self.start_timeout = start_timeout
        self._port: int | None = self.options.port
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: _OutputPump | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._cache_path: Path | None = None
        self._owner: IO[bytes] | None = None
        #: Seconds the last start took from spawn to the first eth_chainId answer.
        self.last_start_seconds: float | None = None

    @classmethod
    def for_project(
        cls,
        project: Project,
        options: AnvilOptions | None = None,
        *,
        log: bool = True,
        start_timeout: float = START_TIMEOUT,
    ) -> AnvilNode:
        """A node with the project's anvil binary, its EVM version as hardfork, logs in ``.pkr-pilot/logs``."""
        options = replace(options or AnvilOptions(), hardfork=project.compiler.hardfork)
        if options.cache_root is None:
            options = replace(options, cache_root=project.paths.state / "anvil-cache")
        return cls(
            find_anvil(project.paths.node_modules),
            options,
            log_dir=project.paths.state / "logs" if log else None,
            start_timeout=start_timeout,
        )

    # ------------------------------------------------------------------ facts

    @property
    def port(self) -> int:
        if self._port is None:
            raise ChainError("the anvil node has not been started yet", hint="call start() first")
        return self._port

    @property
    def url(self) -> str:
        host = self.options.host
        if host in ("0.0.0.0", ""):  # noqa: S104 - a client address for a wildcard bind
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_file(self) -> Path | None:
        if self.log_dir is None or self._port is None:
            return None
        return self.log_dir / f"anvil-{self._port}.log"

    def output_tail(self, lines: int = 20) -> list[str]:
        """The last lines anvil printed (key sections left out)."""
        if self._pump is None:
            return []
        return list(self._pump.tail)[-lines:]

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = self.url if self._port is not None else "no port yet"
        return f"AnvilNode({where}, chain_id={self.options.chain_id}, {state})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> AnvilNode:
        """Spawn anvil and wait until it answers ``eth_chainId`` (at most ``start_timeout`` s).

        With no fixed port, a free one is picked (and a lost race for it retried).

        Raises:
            NodeStartError: anvil exited or did not answer; the message carries its last words.
            ToolchainError: the binary cannot be executed.
        """
        if self.running:
            return self
        attempts = 3 if self._port is None else 1
        for attempt in range(attempts):
            if self._port is None or (attempt and self.options.port is None):
                self._port = free_port(self.options.host)
            try:
                self._spawn_and_wait()
                return self
            except NodeStartError as exc:
                if attempt + 1 < attempts and _PORT_IN_USE in str(exc):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = STOP_TIMEOUT, *, quiesce: bool = True) -> int | None:
        """Stop gracefully: mining stopped first, then SIGINT (anvil dumps ``--state``), then SIGTERM, SIGKILL.

        anvil 1.7.1 writes its state file without stopping its miner: a block mined while the dump runs
        lands in the accounts (balances, nonces) but not in the saved blocks, so after a restart the
        chain keeps the effects of its last transactions but not their blocks, receipts and logs (seen
        in issue 10: 569 transactions in the accounts, 559 blocks saved). With a state file, mining is
        therefore switched off (``evm_setAutomine false``, ``evm_setIntervalMining 0``) and the head
        waited for until it is still, so what is saved is one consistent chain; transactions still in
        the pool are not mined and not saved (their senders see them unmined and send them again).
        ``quiesce=False`` keeps the old race (fault drills). Returns anvil's exit code (None when it
        was not running).
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            if quiesce and self.options.state_file is not None:
                self._stop_mining()
            _interrupt(proc)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._reap()
        return proc.returncode

    def _stop_mining(self, settle: float = 0.3, limit: float = 10.0) -> None:
        """Switch mining off and wait until the head has not moved for ``settle`` seconds (best effort)."""
        try:
            self.rpc("evm_setAutomine", [False])
            with contextlib.suppress(ChainError):
                self.rpc("evm_setIntervalMining", [0])
            head = self.rpc("eth_blockNumber")
            deadline = time.monotonic() + limit
            still_since = time.monotonic()
            while time.monotonic() < deadline and time.monotonic() - still_since < settle:
                time.sleep(0.05)
                now = self.rpc("eth_blockNumber")
                if now != head:
                    head, still_since = now, time.monotonic()
        except ChainError:
            return  # not answering: nothing is being mined through it either

    def kill(self) -> None:
        """Kill at once with SIGKILL: no state dump (a crash, for drills)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        self._reap()

    def restart(self, timeout: float = STOP_TIMEOUT) -> AnvilNode:
        """Stop (dumping the state file) and start again on the same port."""
        self.stop(timeout)
        return self.start()

    def wait(self) -> int:
        """Block until anvil exits by itself (e.g. Ctrl-C in the terminal); its exit code."""
        if self._proc is None:
            raise ChainError("the anvil node is not running")
        return self._proc.wait()

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ JSON-RPC

    def rpc(self, method: str, params: list[Any] | tuple[Any, ...] = (), *, timeout: float = 5.0) -> Any:
        """One JSON-RPC call to this node (never through a proxy, no web3 import); the ``result``.

        Raises:
            ChainError: the node is unreachable or answered with an error
                (:class:`~pkr_pilot.transport.RpcError`).
        """
        transport = HttpTransport(self.url, timeout=timeout, trust_env=False)
        try:
            return transport.call(method, params)
        finally:
            transport.close()

    # ------------------------------------------------------------------ internals

    def _spawn_and_wait(self) -> None:
        # anvil spills old block states to ~/.foundry/anvil/tmp unless told otherwise (gigabytes after a
        # day of use); this node's go to a folder of its own, removed when it stops.
        root = self.options.cache_root
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
            _sweep_orphaned_caches(root)
        self._cache_path = Path(tempfile.mkdtemp(prefix=f"anvil-{self.port}-", dir=root))
        self._owner = _claim(self._cache_path)
        command = _dies_with_parent(self.options.command(self.binary, self.port, cache_path=self._cache_path))
        log_file = self.log_file
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            _prune_logs(log_file.parent, keep=LOGS_KEPT, current=log_file)
        if self.options.state_file is not None:
            self.options.state_file.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Its own process group: Ctrl-C in a terminal reaches pkr-pilot only, which stops
                # mining before it passes the SIGINT on (see stop()).
                process_group=0,
            )
        except OSError as exc:
            raise ToolchainError(
                f"cannot run anvil ({self.binary}): {exc.strerror or exc}",
                hint="run `make setup` (or `npm ci`) to reinstall @foundry-rs/anvil",
            ) from None
        assert proc.stdout is not None
        pump = _OutputPump(proc.stdout, log_file, header=_log_header(command))
        pump.start()
        self._proc, self._pump = proc, pump
        self._finalizer = weakref.finalize(self, _kill_quietly, proc, self._cache_path)
        try:
            self._wait_ready(proc, pump, started)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, proc: subprocess.Popen[bytes], pump: _OutputPump, started: float) -> None:
        deadline = started + self.start_timeout
        silenced = any(flag in self.options.extra_args for flag in ("--silent", "-q", "--quiet"))
        while not silenced and not pump.listening.wait(0.02):
            if proc.poll() is not None:
                pump.join(2)
                raise self._start_error(f"anvil exited with code {proc.returncode}")
            if time.perf_counter() > deadline:
                raise self._start_error(f"anvil did not listen within {self.start_timeout:g} s")
        while True:
            try:
                answer = self.rpc("eth_chainId", timeout=1.0)
            except ChainError:
                if proc.poll() is not None:
                    pump.join(2)
                    raise self._start_error(f"anvil exited with code {proc.returncode}") from None
                if time.perf_counter() > deadline:
                    raise self._start_error(
                        f"anvil did not answer eth_chainId within {self.start_timeout:g} s"
                    ) from None
                time.sleep(0.02)
                continue
            break
        if int(answer, 16) != self.options.chain_id:
            raise self._start_error(
                f"something else answers on port {self.port} (chain id {int(answer, 16)})"
            )
        self.last_start_seconds = time.perf_counter() - started

    def _start_error(self, what: str) -> NodeStartError:
        said = [line.strip() for line in self.output_tail(6) if line.strip()]
        errors = [line for line in said if re.match(r"(?i)(error|fatal|thread .* panicked)", line)]
        detail = " | ".join(errors or said[-3:]) or "no output"
        where = f"see {self.log_file}" if self.log_file else "run anvil by hand to see more"
        hint = where
        if _PORT_IN_USE in detail:
            hint = f"port {self.port} is taken: stop what runs there or choose another --port; {where}"
        error = NodeStartError(f"{what}: {detail}", hint=hint)
        error.output_tail = self.output_tail(40)  # type: ignore[attr-defined]
        return error

    def _reap(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._pump is not None:
            self._pump.join(2)
        proc = self._proc
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        self._proc = None
        if self._cache_path is not None:
            shutil.rmtree(self._cache_path, ignore_errors=True)
            self._cache_path = None
        if self._owner is not None:
            self._owner.close()
            self._owner = None


OWNER_FILE = ".owner"
ORPHAN_GRACE_SECONDS = 60.0


def _claim(cache_path: Path) -> IO[bytes]:
    """Hold a lock on ``cache_path/.owner`` for as long as this process lives (the OS drops it
    when the process dies, even by SIGKILL), so a later node can tell an orphaned folder from a
    live one."""
    owner = (cache_path / OWNER_FILE).open("wb")  # not inherited by anvil (close-on-exec)
    fcntl.flock(owner.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return owner


def _sweep_orphaned_caches(root: Path) -> None:
    """Remove the spilled-state folders of nodes whose process is gone.

    A node removes its folder when it stops; a process killed outright (SIGKILL, a lost
    terminal) cannot, and one national-scale run leaves hundreds of megabytes behind. A folder
    is orphaned when nobody holds its ``.owner`` lock, or when it has no ``.owner`` and is older
    than a minute (made by an older pkr-pilot, or by a node that never claimed it).
    """
    for folder in root.glob("anvil-*"):
        if not folder.is_dir():
            continue
        owner_file = folder / OWNER_FILE
        try:
            if not owner_file.exists():
                orphaned = time.time() - folder.stat().st_mtime > ORPHAN_GRACE_SECONDS
            else:
                with owner_file.open("rb") as probe:
                    try:
                        fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        orphaned = False  # its node is alive
                    else:
                        orphaned = True
        except OSError:
            continue  # removed meanwhile by its own node, or unreadable: leave it
        if orphaned:
            shutil.rmtree(folder, ignore_errors=True)


def _dies_with_parent(command: list[str]) -> list[str]:
    """On Linux, run anvil under ``setpriv --pdeathsig TERM`` so it stops (and dumps its
    state) when the process that started it dies, even by SIGKILL: no orphaned nodes.

    The "parent" is the *thread* that spawns anvil: start nodes from a thread that
    lives as long as the node (the main thread, normally).
    """
    if not sys.platform.startswith("linux"):
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:  # util-linux missing: no protection, same behaviour otherwise
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        proc.send_signal(signal.SIGINT)  # anvil's graceful shutdown: dumps --state
    else:  # pragma: no cover - no SIGINT to a child on Windows
        proc.terminate()


def _kill_quietly(proc: subprocess.Popen[bytes], cache_path: Path | None = None) -> None:
    with contextlib.suppress(OSError):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
    if cache_path is not None:
        shutil.rmtree(cache_path, ignore_errors=True)


def _prune_logs(folder: Path, *, keep: int, current: Path) -> None:
    """Keep ``current`` and the ``keep - 1`` newest other ``anvil-*.log`` files (one per port)."""
    logs = []
    for path in folder.glob("anvil-*.log"):
        if path != current:
            with contextlib.suppress(OSError):  # another process may delete it first
                logs.append((path.stat().st_mtime, path))
    logs.sort(reverse=True)
    for _, path in logs[keep - 1 :]:
        with contextlib.suppress(OSError):
            path.unlink()


def _log_header(command: list[str]) -> str:
    shown = " ".join(
        "'<public test mnemonic>'" if part == DEV_MNEMONIC else part for part in command
    )
    return f"--- pkr-pilot started anvil {time.strftime('%Y-%m-%d %H:%M:%S')}: {shown}"


class _OutputPump(threading.Thread):
    """Copies anvil's output to the log file without the key sections; keeps a tail."""

    def __init__(self, stream: IO[bytes], log_file: Path | None, *, header: str) -> None:
        super().__init__(name="anvil-output", daemon=True)
        self._stream = stream
        self._log_file = log_file
        self._header = header
        self.tail: deque[str] = deque(maxlen=60)
        self.listening = threading.Event()
        self._skipping = False

    def run(self) -> None:
        log = self._log_file.open("a", encoding="utf-8") if self._log_file is not None else None
        try:
            if log is not None:
                log.write(self._header + "\n")
            # Whatever the pipe holds at once, then one flush: anvil logs several lines per
            # transaction, and a write per line cost a system call each in bulk runs.
            pending = b""
            while chunk := self._stream.read1(65536):  # type: ignore[attr-defined]
                *lines, pending = (pending + chunk).split(b"\n")
                for raw in lines:
                    self._take(raw, log)
                if log is not None:
                    log.flush()
            if pending:
                self._take(pending, log)
        except (OSError, ValueError):  # the pipe was closed under us
            pass
        finally:
            if log is not None:
                log.close()

    def _take(self, raw: bytes, log: IO[str] | None) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        text = line.strip()
        if text in _SECRET_SECTIONS:
            self._skipping = True
            line = f"({text}: left out by pkr-pilot)"
        elif self._skipping:
            if not text or set(text) == {"="} or _KEY_LINE.fullmatch(text):
                return
            if text.startswith(("Mnemonic:", "Derivation path:")):
                return
            self._skipping = False
        if text.startswith("Listening on"):
            self.listening.set()
        self.tail.append(line)
        if log is not None:
            log.write(line + "\n")
