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
    "transactions_per_block_chart",
    "use_config_dir",
]

Series = Sequence[tuple[int, int]]
_SIZE = (9.0, 4.2)
_DPI = 100


def supply_reserves_chart(supply: Series, reserves: Series, *, decimals: int, symbol: str, title: str) -> bytes:
    """Total supply and the last attested reserves (step lines) against block number."""
    fig, ax = _figure()
    if reserves:
        ax.step(*_xy(reserves, decimals), where="post", label="attested reserves", color="#2b8a3e", linewidth=1.8)
    if supply:
        ax.step(*_xy(supply, decimals), where="post", label="total supply", color="#1c7ed6", linewidth=1.8)
    ax.set_xlabel("block")
    ax.set_ylabel(symbol)
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.set_ylim(bottom=0)
    return _png(fig)


def balance_distribution_chart(balances: Sequence[int], *, decimals: int, symbol: str, title: str) -> bytes:
    """Histogram of wallet balances (merchants and citizens)."""
    fig, ax = _figure()
    values = [_units(b, decimals) for b in balances]
    if values:
        ax.hist(values, bins=min(40, max(5, len(values) // 5)), color="#5f3dc4", edgecolor="white")
    ax.set_xlabel(f"balance ({symbol})")
    ax.set_ylabel("wallets")
    ax.set_title(title)
    return _png(fig)


def frozen_chart(partial: Series, full: Series, *, decimals: int, symbol: str, title: str) -> bytes:
    """Frozen amounts (partial freezes) and balances of fully frozen wallets against block number."""
    fig, ax = _figure()
    if partial:
        ax.step(*_xy(partial, decimals), where="post", label="partially frozen amounts", color="#e8590c")
    if full:
        ax.step(*_xy(full, decimals), where="post", label="balances of frozen wallets", color="#c92a2a")
    ax.set_xlabel("block")
    ax.set_ylabel(symbol)
    ax.set_title(title)
    if partial or full:
        ax.legend(loc="upper right")
    ax.set_ylim(bottom=0)
    return _png(fig)


def transactions_per_block_chart(counts: Series, *, title: str) -> bytes:
    """Transactions in each block."""
    fig, ax = _figure()
    if counts:
        blocks = [b for b, _ in counts]
        ax.bar(blocks, [c for _, c in counts], width=1.0, color="#495057")
    ax.set_xlabel("block")
    ax.set_ylabel("transactions")
    ax.set_title(title)
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


def _xy(series: Series, decimals: int) -> tuple[list[int], list[float]]:
    return [b for b, _ in series], [_units(v, decimals) for _, v in series]
