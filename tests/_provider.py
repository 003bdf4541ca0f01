"""Which node the chain tests talk to when they run under ``ape test`` (the Ape lane).

The contract behaviour suite (tests/contracts, marker ``behaviour``) is one source of tests run
two ways: by plain pytest on the toolkit's own nodes (a managed anvil, py-evm), and by
``ape test`` on the node Ape's provider started (ape-foundry on the npm anvil). Under Ape the
toolkit fixtures are simply pointed at Ape's provider URL; the tests do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from web3 import Web3

#: Pytest plugin name of Ape's test runner (loaded by ``ape test``; ``-p no:ape_test`` elsewhere).
APE_PLUGIN = "ape_test"


def under_ape(config: pytest.Config) -> bool:
    """True when Ape's pytest plugin runs this session (``ape test``)."""
    return bool(config.pluginmanager.has_plugin(APE_PLUGIN))


def ape_provider_url() -> str:
    """The JSON-RPC URL of the node Ape is connected to (``ape test --network ...``)."""
    from ape import networks

    provider = networks.provider
    url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise RuntimeError(f"Ape's provider {provider.name!r} has no HTTP URL; use --network ethereum:local:foundry")
    return url


@contextmanager
def ape_web3() -> Iterator[Web3]:
    """A Web3 on Ape's node, for the suites that otherwise start a private anvil of their own."""
    yield Web3(Web3.HTTPProvider(ape_provider_url(), request_kwargs={"timeout": 30}))
