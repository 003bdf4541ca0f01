"""PNG charts for scenario reports, drawn with matplotlib's object API (no pyplot, no global figure).

matplotlib is imported, and its ``Agg`` backend selected, only inside the functions that draw, so
importing this module costs nothing. Amounts arrive as integer base units; they are turned into
floats only for plotting (axis positions), never for arithmetic. Each function returns the PNG bytes;
:func:`save_png` writes them atomically.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._files import atomic_write_bytes
from ..errors import require_extra

__all__ = [
    "balance_distribution_chart",
    "frozen_chart",
    "require_charts",
    "save_png",
    "supply_reserves_chart",
    "transactions_per_day_chart",
    "use_config_dir",
]

#: (x, value) points: x in simulated days since the scenario's start (negative: setup), value in base units.
Series = Sequence[tuple[float, int]]
#: (day, kind) of an event drawn as a vertical marker: pause, unpause, freeze, seizure, attestation.
Markers = Sequence[tuple[float, str]]
_SIZE = (9.0, 4.2)
_DPI = 100
_MARKER_STYLE: dict[str, tuple[str, str]] = {
    "attestation": ("#2b8a3e", ":"),
    "pause": ("#c92a2a", "-"),
    "unpause": ("#c92a2a", "--"),
    "freeze": ("#e8590c", "-."),
    "seizure": ("#862e9c", "-"),
}


def supply_reserves_chart(
    supply: Series, reserves: Series, *, decimals: int, symbol: str, title: str, markers: Markers = ()
) -> bytes:
    """Supply and the last attested reserves (steps) by simulated day, the collateral ratio on a second axis.

    Amounts are plain numbers with thousands separators (no ``1e7`` offset), the ratio is in percent
    with a 100 % line, so a 2.5 % gap between two large numbers stays visible.
    """
    fig, ax = _figure()
    _setup_band(ax, supply, reserves)
    if reserves:
        ax.step(*_xy(reserves, decimals), where="post", label="attested reserves", color="#2b8a3e", linewidth=1.8)
    if supply:
        ax.step(*_xy(supply, decimals), where="post", label="total supply", color="#1c7ed6", linewidth=1.8)
    _markers(ax, markers)
    _days_axis(ax)
    _amount_axis(ax, symbol)
    ax.set_ylim(bottom=0)
    ratio = _ratio(supply, reserves)
    handles, labels = ax.get_legend_handles_labels()
    if ratio:
        right = ax.twinx()
        right.step([x for x, _ in ratio], [r for _, r in ratio], where="post", color="#868e96", linewidth=1.2,
                   label="collateralisation (%)")
        right.axhline(100, color="#868e96", linewidth=0.8, linestyle=":")
        right.set_ylabel("collateralisation (reserves / supply, %)")
        right.yaxis.set_major_formatter(_formatter("{:,.1f} %"))
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.set_title(title)
    ax.legend(handles, labels, loc="lower right", fontsize="small")
    return _png(fig)


def balance_distribution_chart(balances: Sequence[int], *, decimals: int, symbol: str, title: str) -> bytes:
    """Histogram of wallet balances (merchants and citizens)."""
    fig, ax = _figure()
    values = [_units(b, decimals) for b in balances]
    if values:
        ax.hist(values, bins=min(40, max(5, len(values) // 5)), color="#5f3dc4", edgecolor="white")
    ax.set_xlabel(f"balance ({symbol})")
    ax.xaxis.set_major_formatter(_formatter("{:,.0f}"))
    ax.set_ylabel("wallets")
    ax.set_title(title)
    return _png(fig)


def frozen_chart(
    partial: Series, full: Series, *, decimals: int, symbol: str, title: str, markers: Markers = ()
) -> bytes:
    """Frozen amounts (partial freezes) and balances of fully frozen wallets by simulated day."""
    fig, ax = _figure()
    _setup_band(ax, partial, full)
    if partial:
        ax.step(*_xy(partial, decimals), where="post", label="partially frozen amounts", color="#e8590c")
    if full:
        ax.step(*_xy(full, decimals), where="post", label="balances of frozen wallets", color="#c92a2a")
    _markers(ax, markers)
    _days_axis(ax)
    _amount_axis(ax, symbol)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="small")
    ax.set_ylim(bottom=0)
    return _png(fig)


def transactions_per_day_chart(counts: Sequence[tuple[int, int]], *, title: str) -> bytes:
    """Transactions per simulated day; day -1 is the setup (funding, deployment, onboarding), drawn apart."""
    fig, ax = _figure()
    setup = [(d, c) for d, c in counts if d < 0]
    activity = [(d, c) for d, c in counts if d >= 0]
    if setup:
        ax.bar([-1], [sum(c for _, c in setup)], width=0.8, color="#adb5bd", label="setup (before day 0)")
    if activity:
        ax.bar([d for d, _ in activity], [c for _, c in activity], width=0.8, color="#495057", label="scenario activity")
    days = sorted({d for d, _ in activity})
    ticks = ([-1] if setup else []) + (days if len(days) <= 15 else days[:: max(1, len(days) // 10)])
    ax.set_xticks(ticks, ["setup" if t < 0 else f"day {t}" for t in ticks])
    ax.set_xlabel("simulated day")
    ax.set_ylabel("transactions")
    ax.yaxis.set_major_formatter(_formatter("{:,.0f}"))
    ax.set_title(title)
    if counts:
        ax.legend(loc="upper right", fontsize="small")
    return _png(fig)


def use_config_dir(folder: Path) -> None:
    """Keep matplotlib's config and font cache in ``folder`` (the project's ``.pkr-pilot/matplotlib``).

    matplotlib otherwise writes ``~/.config/matplotlib`` and ``~/.cache/matplotlib``. It reads
    ``MPLCONFIGDIR`` once, when first imported, so this sets it only before that, and never over a
    value the user chose.
    """
    if "MPLCONFIGDIR" in os.environ or "matplotlib" in sys.modules:
        return
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(folder)


def require_charts() -> None:
    """Raise :class:`~pkr_pilot.errors.ToolchainError` naming the ``charts`` extra if matplotlib is missing."""
    require_extra("matplotlib", extra="charts", feature="report charts")


def save_png(data: bytes, path: Path) -> None:
    atomic_write_bytes(path, data)


# --------------------------------------------------------------------------- internals


def _figure() -> tuple[Any, Any]:
    require_charts()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, alpha=0.3)
    return fig, ax


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _units(value: int, decimals: int) -> float:
    # Display only: a chart axis needs floats; the figures in the report stay exact.
    return float(value) / float(10**decimals)


def _xy(series: Series, decimals: int) -> tuple[list[float], list[float]]:
    return [x for x, _ in series], [_units(v, decimals) for _, v in series]


def _formatter(template: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _position: template.format(value))


def _days_axis(ax: Any) -> None:
    ax.set_xlabel("simulated day (negative: setup before the scenario starts)")


def _amount_axis(ax: Any, symbol: str) -> None:
    ax.set_ylabel(symbol)
    ax.yaxis.set_major_formatter(_formatter("{:,.0f}"))


def _setup_band(ax: Any, *series: Series) -> None:
    """Shade the setup (before day 0) so it is not read as scenario activity."""
    starts = [s[0][0] for s in series if s]
    first = min(starts) if starts else 0.0
    if first < 0:
        ax.axvspan(first, 0, color="#f1f3f5", label="setup", zorder=0)


def _markers(ax: Any, markers: Markers) -> None:
    """One vertical line per event, one legend entry per kind."""
    seen: set[str] = set()
    for day, kind in markers:
        color, style = _MARKER_STYLE.get(kind, ("#495057", ":"))
        ax.axvline(day, color=color, linestyle=style, linewidth=0.9, alpha=0.8,
                   label=None if kind in seen else kind)
        seen.add(kind)


def _ratio(supply: Series, reserves: Series) -> list[tuple[float, float]]:
    """Reserves / supply in percent at every change of either (display only)."""
    changes = sorted([(x, 0, v) for x, v in supply] + [(x, 1, v) for x, v in reserves])
    current = [0, 0]
    out: list[tuple[float, float]] = []
    for x, which, value in changes:
        current[which] = value
        if current[0] > 0:
            point = (x, 100.0 * float(current[1]) / float(current[0]))
            if out and out[-1][0] == x:
                out[-1] = point
            else:
                out.append(point)
    return out
