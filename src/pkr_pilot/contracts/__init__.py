"""Typed Python wrappers around the deployed stack: the PilotRupee token, the MintDesk and the timelock.

Each wrapper holds an explicit ``Web3``, an address and the contract's ABI. It offers

* **views** that return Python values (ints, checksummed addresses, small frozen dataclasses), read at
  ``latest`` or at an explicit block;
* **builders** that return a :class:`Call` (target, function, arguments and ABI-encoded call data) for
  each state-changing operation; nothing here signs or sends: :mod:`pkr_pilot.ops` does that through
  :class:`~pkr_pilot.tx.Sender`;
* an **event scanner** that pages ``eth_getLogs`` over large block ranges and decodes the logs, with
  an optional :class:`EventCache` so a full-history read only scans the blocks added since last time;
  :meth:`ContractHandle.find_events` looks for particular events (one account's, one ref's) and
  decodes only the logs that can match: indexed arguments filtered by the node, the others compared
  in the raw log data.

:func:`stack_decoder` builds one :class:`~pkr_pilot.decode.ErrorDecoder` from every ABI of the stack so
a revert anywhere (the desk calling the token, the timelock calling the token) reads like
``FrozenAccount(account=0x…)``.

>>> role_id("DEFAULT_ADMIN_ROLE") == bytes(32)
True
>>> role_name(role_id("freezer"))
'FREEZER_ROLE'
"""

from ..amounts import UNLIMITED, TierLimits
from ._abi import (
    DESK_ROLES,
    TIMELOCK_ROLES,
    TOKEN_ROLES,
    Call,
    canonical_role,
    encode_call,
    event_topic,
    function_item,
    role_id,
    role_name,
    selector,
    static_words,
)
from ._eip712 import (
    AUTHORIZATION_FIELDS,
    CANCEL_AUTHORIZATION_TYPES,
    PERMIT_TYPES,
    authorization_types,
)
from ._events import (
    DEFAULT_LOG_PAGE,
    REORG_MARGIN,
    UNCACHED_EVENTS,
    CachedEvents,
    DecodedEvent,
    EventCache,
    LogStats,
    decode_log,
    scan_events,
)
from ._handle import ContractHandle
from ._typed import (
    OPERATION_STATES,
    REQUEST_KINDS,
    REQUEST_STATUSES,
    Desk,
    DeskPolicy,
    DeskRequest,
    Reserves,
    Stack,
    Timelock,
    Token,
    stack_decoder,
)

__all__ = [
    "AUTHORIZATION_FIELDS",
    "CANCEL_AUTHORIZATION_TYPES",
    "DEFAULT_LOG_PAGE",
    "DESK_ROLES",
    "OPERATION_STATES",
    "PERMIT_TYPES",
    "REORG_MARGIN",
    "REQUEST_KINDS",
    "REQUEST_STATUSES",
    "TIMELOCK_ROLES",
    "TOKEN_ROLES",
    "UNCACHED_EVENTS",
    "UNLIMITED",
    "CachedEvents",
    "Call",
    "ContractHandle",
    "DecodedEvent",
    "Desk",
    "DeskPolicy",
    "DeskRequest",
    "EventCache",
    "LogStats",
    "Reserves",
    "Stack",
    "TierLimits",
    "Timelock",
    "Token",
    "authorization_types",
    "canonical_role",
    "decode_log",
    "encode_call",
    "event_topic",
    "function_item",
    "role_id",
    "role_name",
    "scan_events",
    "selector",
    "stack_decoder",
    "static_words",
]
