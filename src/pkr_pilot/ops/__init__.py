"""Operator actions on a deployed stack: one table of actions, one path and one flow for all of them.

::

    from pkr_pilot import ops
    from pkr_pilot.contracts import Stack
    from pkr_pilot.tx import Sender, TxPolicy

    stack = Stack.from_deployment(w3, deployment)              # token, desk, timelock + error decoder
    sender = Sender(w3, signer, decoder=stack.decoder, policy=TxPolicy.from_network(network))
    operator = ops.Operator(stack, sender, ops.Journal.in_folder(folder), network="localhost",
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

from .actions import (
    ACTION_ROLES,
    ACTIONS,
    ActionSpec,
    Param,
    allowlist,
    attest_reserves,
    burn,
    configure_minter,
    freeze,
    freeze_amount,
    governed_call,
    grant_role,
    limits,
    mint,
    mint_approve,
    mint_cancel,
    mint_execute,
    mint_request,
    parse_timestamp,
    pause,
    perform,
    remove_minter,
    revoke_role,
    seize,
    set_exempt,
    set_tier,
    set_tier_limits,
    timelock_execute,
    timelock_schedule,
    transfer,
    unfreeze,
    unfreeze_amount,
    unpause,
)
from .flow import Evidence, OperationResult, Operator, Plan, Preview, RunOptions
from .journal import JOURNAL_FILE, JOURNAL_SCHEMA, JOURNAL_SCHEMA_VERSION, Journal, OperationState
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
    "ACTIONS",
    "ACTION_ROLES",
    "JOURNAL_FILE",
    "JOURNAL_SCHEMA",
    "JOURNAL_SCHEMA_VERSION",
    "ActionSpec",
    "BalanceReport",
    "Evidence",
    "Journal",
    "OperationResult",
    "OperationState",
    "Operator",
    "Param",
    "PendingRequest",
    "Plan",
    "Preview",
    "RunOptions",
    "StatusReport",
    "allowlist",
    "attest_reserves",
    "balance",
    "burn",
    "configure_minter",
    "freeze",
    "freeze_amount",
    "governed_call",
    "grant_role",
    "limits",
    "mint",
    "mint_approve",
    "mint_cancel",
    "mint_execute",
    "mint_request",
    "mint_requests",
    "parse_timestamp",
    "pause",
    "perform",
    "remove_minter",
    "revoke_role",
    "roles_list",
    "seize",
    "set_exempt",
    "set_tier",
    "set_tier_limits",
    "status",
    "timelock_execute",
    "timelock_schedule",
    "transfer",
    "unfreeze",
    "unfreeze_amount",
    "unpause",
]
