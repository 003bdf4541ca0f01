"""The one exception tree of pkr-pilot.

Every error the toolkit raises on purpose derives from :class:`PilotError`, and
its message is one line that says what went wrong and what to do about it.
The CLI prints that line (no traceback unless ``--debug``) and exits with the
class's ``exit_code``.

::

    PilotError
    ├── ConfigError (ValueError)            bad or missing configuration, unknown network
    │   └── UserInputError                  a bad amount, address, file row or option
    ├── ToolchainError (RuntimeError)       Node.js, solc or anvil missing or broken
    │   └── CompileError                    solc reported errors (file:line:col messages)
    ├── ChainError (ConnectionError)        node unreachable, timed out, refused
    │   ├── NodeStartError                  the managed anvil did not come up
    │   ├── ChainIdMismatch                 the chain is not the one the config expects
    │   └── TransactionTimeout              a transaction was not mined in time
    ├── AccountError (PermissionError)      unknown account, bad keystore password,
    │   └── DevKeyRefused                   dev keys on a chain that is not local
    ├── ContractRevert                      a call or transaction reverted (decoded)
    │   └── TransactionFailed               a mined transaction has receipt status 0
    ├── DeploymentError                     records, layout and verify problems
    │   └── StorageLayoutError              an upgrade would move a storage slot
    ├── JournalError                        a journal is damaged, too new, or held by another process
    ├── ReconcileError                      the books do not balance
    └── SentNotConfirmed                    interrupted (Ctrl-C, SIGTERM) after a transaction was sent
        └── SendUndecided                   the answer to a submission was lost: the node may hold it
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .human import plain

if TYPE_CHECKING:
    from .human import Units

__all__ = [
    "AccountError",
    "ChainError",
    "ChainIdMismatch",
    "CompileError",
    "ConfigError",
    "ContractRevert",
    "DeploymentError",
    "DevKeyRefused",
    "JournalError",
    "MinedUnseen",
    "NodeStartError",
    "PilotError",
    "ReconcileError",
    "SendUndecided",
    "SentNotConfirmed",
    "StorageLayoutError",
    "ToolchainError",
    "TransactionFailed",
    "TransactionTimeout",
    "UserInputError",
    "require_extra",
]


class PilotError(Exception):
    """Root of every error pkr-pilot raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


class ConfigError(PilotError, ValueError):
    """Configuration is missing or wrong: fix the file or option named."""

    exit_code = 2


class UserInputError(ConfigError):
    """A value typed by the user (amount, address, CSV row) is not acceptable."""

    exit_code = 2


class ToolchainError(PilotError, RuntimeError):
    """A required tool (Node.js, solc, anvil) is missing or misbehaves."""

    exit_code = 3


class CompileError(ToolchainError):
    """solc reported errors; ``diagnostics`` holds one ``file:line:col: message`` per error."""

    def __init__(self, diagnostics: list[str]) -> None:
        self.diagnostics = diagnostics
        head = diagnostics[0] if diagnostics else "unknown compiler error"
        more = f" (+{len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(f"compilation failed: {head}{more}")


class ChainError(PilotError, ConnectionError):
    """The node cannot be reached or did not answer as expected."""

    exit_code = 4


class NodeStartError(ChainError):
    """The managed local node failed to start; the message carries its stderr."""


class ChainIdMismatch(ChainError):
    """The node's chain id differs from the one the configuration expects."""

    def __init__(self, expected: int, actual: int, *, where: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{where} expects chain id {expected} but the node reports {actual}",
            hint="check --network, or chain_id in pkr-pilot.toml / deployments/<network>/.chainId",
        )


class TransactionTimeout(ChainError):
    """A transaction was sent but not mined within the timeout."""

    def __init__(self, tx_hash: str, seconds: float) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            f"transaction {tx_hash} was not mined within {seconds:g} s",
            hint="check the node is mining; re-run the same command to resume "
            "(the operations commands, e.g. mint or transfer, also take --replace to bump the fee)",
        )


class AccountError(PilotError, PermissionError):
    """An account cannot be used: unknown name, bad password, missing keystore."""

    exit_code = 5


class DevKeyRefused(AccountError):
    """The public anvil test keys may only sign on local dev chains."""


class ContractRevert(PilotError):
    """A contract call reverted. ``name`` and ``args`` hold the decoded custom error.

    The arguments stay typed (``args_by_name``: ints, checksummed addresses, bytes);
    ``str(err)`` renders them for a person through :class:`~pkr_pilot.human.Units`
    (``ERC20InsufficientBalance(sender=0x…, balance=40.00 PKRP, needed=50.00 PKRP)``),
    ``signature_text`` keeps the exact values (``balance=4000``) for journals and
    :meth:`to_json` the exact integers for ``--json``.
    """

    exit_code = 6

    def __init__(
        self,
        name: str,
        args: Mapping[str, Any] | None = None,
        *,
        data: bytes = b"",
        action: str | None = None,
        units: Units | None = None,
    ) -> None:
        from .human import Units

        self.name = name
        self.args_by_name: dict[str, Any] = dict(args or {})
        self.data = data
        self.action = action
        self.units = units or Units()
        rendered = ", ".join(f"{k}={plain(v)}" for k, v in self.args_by_name.items())
        text = f"{name}({rendered})"
        human = self.units.error_text(name, self.args_by_name)
        super().__init__(f"{action} reverted: {human}" if action else f"reverted: {human}")
        self.signature_text = text

    def to_json(self) -> dict[str, Any]:
        """The decoded error with exact values (ints stay ints, bytes become ``0x`` hex)."""
        from .human import jsonable

        return {"name": self.name, "args": {k: jsonable(v) for k, v in self.args_by_name.items()}}


class TransactionFailed(ContractRevert):
    """A mined transaction has status 0."""


class DeploymentError(PilotError):
    """Deployment records, journal, verify or upgrade problem."""

    exit_code = 7


class StorageLayoutError(DeploymentError):
    """A new implementation's storage layout clashes with the recorded one."""


class JournalError(PilotError):
    """A write-ahead journal (deploy, operations, disbursement) is damaged, newer than this
    pkr-pilot, or held by another process."""

    exit_code = 7


class ReconcileError(PilotError):
    """The on-chain books do not balance; the message lists the first mismatch."""

    exit_code = 8


def require_extra(module: str, *, extra: str, feature: str) -> None:
    """Raise :class:`ToolchainError` naming the package extra when an optional dependency is missing.

    ``require_extra("matplotlib", extra="charts", feature="report charts")`` says to run
    ``pip install 'pkr-pilot[charts]'`` when matplotlib cannot be imported.
    """
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise ToolchainError(
            f"{feature} need {module}, which is not installed",
            hint=f"install the extra: pip install 'pkr-pilot[{extra}]' (make setup installs every extra)",
        ) from None


class SentNotConfirmed(PilotError):
    """Interrupted (Ctrl-C, SIGTERM) after the node accepted a transaction, before it was confirmed.

    The transaction is live: it may still be mined. ``tx_hashes`` are the ones sent and not yet
    confirmed. Running the same command again follows them (it never sends them a second time).
    """

    exit_code = 10

    def __init__(
        self,
        tx_hashes: list[str] | tuple[str, ...],
        *,
        why: str | None = None,
        then: str = "run the same command again to follow it",
    ) -> None:
        """``why``: what is known of the (first) undecided transaction; ``then``: what to do."""
        self.tx_hashes = tuple(tx_hashes)
        shown = self.tx_hashes[0] if self.tx_hashes else "?"
        more = f" (+{len(self.tx_hashes) - 1} more)" if len(self.tx_hashes) > 1 else ""
        known = f" is undecided ({why})" if why is not None else ""
        super().__init__(f"sent, not yet confirmed: {shown}{more}{known}; {then}")


class SendUndecided(SentNotConfirmed):
    """A signed transaction was submitted and the node's answer was lost (connection dropped, timed out).

    It may have reached the node, so it is neither refused nor safe to sign again: it is undecided
    until the chain says otherwise. Running the same command again follows it by its hash (known
    locally: it is the hash of the signed bytes) and by its nonce.
    """

    def __init__(self, tx_hash: str, why: str) -> None:
        self.tx_hash = tx_hash
        super().__init__((tx_hash,), why=f"the node's answer was lost: {why}")


class MinedUnseen(SentNotConfirmed):
    """The node shows neither a sent transaction nor its receipt, yet its sender's nonce was used.

    It, or another transaction with the same nonce, was mined, and the node does not say which (a
    restarted node that lost its last blocks, a pruned index, a load balancer's lagging replica).
    That is undecided, never "dropped": sending again could pay twice. Running the same command
    again looks for the operation on chain by its ref before it sends anything.
    """

    def __init__(self, tx_hash: str, nonce: int) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            (tx_hash,),
            why=f"the node shows neither it nor its receipt, but nonce {nonce} of its sender was used",
            then="run the same command again: it looks for the operation on chain by its ref before sending anything",
        )
