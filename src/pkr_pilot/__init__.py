"""pkr-pilot: contracts and toolkit for a rupee-pegged pilot stablecoin.

The package root stays light (``pkr-pilot --help`` must be fast): import the
modules you need, e.g. ``from pkr_pilot.compile import compile_project``.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
