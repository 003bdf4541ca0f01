"""Reports: event export, reconciliation of the books, and scenario reports with charts.

::

    from pkr_pilot.reports import export_events, write_events, read_events, reconcile

    export = export_events(stack.token, include_transfers=True)
    write_events(export, Path("events.csv"), "csv")
    report = reconcile(stack.token, events=read_events(Path("events.csv"), stack.token.abi))
    report.raise_for_mismatch()            # ReconcileError naming the first failed check

Modules: :mod:`.events` (export, CSV/JSON writers and reader), :mod:`.reconcile` (the checks),
:mod:`.charts` and :mod:`.html` (scenario report figures and page; matplotlib is imported only when
a chart is drawn).
"""

from __future__ import annotations

from .events import (
    EVENTS_SCHEMA,
    EVENTS_SCHEMA_VERSION,
    BlockTimes,
    EventExport,
    EventRow,
    export_events,
    read_events,
    render_ref,
    write_events,
)
from .reconcile import (
    RECONCILE_SCHEMA,
    RECONCILE_SCHEMA_VERSION,
    ReconcileCheck,
    ReconcileReport,
    reconcile,
)

__all__ = [
    "EVENTS_SCHEMA",
    "EVENTS_SCHEMA_VERSION",
    "RECONCILE_SCHEMA",
    "RECONCILE_SCHEMA_VERSION",
    "BlockTimes",
    "EventExport",
    "EventRow",
    "ReconcileCheck",
    "ReconcileReport",
    "export_events",
    "read_events",
    "reconcile",
    "render_ref",
    "write_events",
]
