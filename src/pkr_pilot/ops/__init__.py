"""Operator actions on a deployed stack: one table of actions, one path and one flow for all of them.

::

    from pkr_pilot import ops
    from pkr_pilot.contracts import Stack
    from pkr_pilot.tx import Sender, TxPolicy

    stack = Stack.from_deployment(w3, deployment)              # token, desk, timelock + error decoder
    sender = Sender(w3, signer, decoder=stack.decoder, policy=TxPolicy.from_network(network))
    operator = ops.Operator(stack, sender, ops.OperationsJournal.in_folder(folder), network="localhost",
                            confirm=lambda preview: input(preview.text() + " ok? ") == "y")

    ops.mint(operator, "0xRecipient…", "1,250.50", ref="BANK-TX-0042")   # -> OperationResult
    ops.freeze(operator, "0xAccount…", ref="CASE-7", options=ops.RunOptions(yes=True))
    ops.status(stack).to_json()                                           # read-only

Every state-changing action validates its input, checks the operations journal and the chain for the
same operation (idempotency key = the ref), simulates (a revert raises the decoded
:class:`~pkr_pilot.errors.ContractRevert`, e.g. ``FrozenAccount(account=0x…)``), asks ``confirm`` unless
``RunOptions(yes=True)``, stops on ``dry_run``, sends through :class:`~pkr_pilot.tx.Sender`, waits for
the network's confirmations and journals every step to ``deployments/<network>/operations.jsonl``.
"""

from __future__ import annotations

from . import actions as _actions
from .actions import *  # noqa: F403 - the actions are this package's API (actions.__all__)
from .flow import Evidence, OperationResult, OperationStatus, Operator, Plan, Preview, RunOptions
from .journal import (
    JOURNAL_FILE,
    JOURNAL_SCHEMA,
    JOURNAL_SCHEMA_VERSION,
    OperationsJournal,
    OperationState,
)
from .views import (
    BalanceReport,
    PendingRequest,
    StatusReport,
    balance,
    mint_requests,
    roles_list,
    status,
)

__all__ = [
    "JOURNAL_FILE",
    "JOURNAL_SCHEMA",
    "JOURNAL_SCHEMA_VERSION",
    "BalanceReport",
    "Evidence",
    "OperationResult",
    "OperationState",
    "OperationStatus",
    "OperationsJournal",
    "Operator",
    "PendingRequest",
    "Plan",
    "Preview",
    "RunOptions",
    "StatusReport",
    "balance",
    "mint_requests",
    "roles_list",
    "status",
]
__all__ += _actions.__all__
