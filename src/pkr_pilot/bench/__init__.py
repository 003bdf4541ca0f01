"""Benchmarks: each one starts or takes its own fresh local chain, measures, and returns figures.

* :mod:`.gas` — the gas budget scenarios (issue 3's table): ``{operation: gasUsed}`` and
  :func:`~.gas.over_budget`; ``pkr-pilot bench gas``.
* :mod:`.snapshot` — every operation's gas against the committed ``.gas-snapshot``
  (``pkr-pilot bench gas --check`` / ``--write-snapshot``).
* :mod:`.bulk` — plain web3.py vs the bulk engine vs Multicall, transfers per second
  (``pkr-pilot bench bulk``).
* :mod:`.scale` — the simulator's mix of work at several wallet counts (``pkr-pilot bench scale``).

Every module here changes chain state freely: never point one at a chain whose state matters.
"""
