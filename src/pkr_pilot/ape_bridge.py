"""Ape as a way in: the toolkit network and account for what ``ape run --network/--account`` chose.

Scripts under ``scripts/`` run two ways, ``python scripts/deploy.py --network NAME`` and
``ape run deploy --network ethereum:local:foundry --account ALIAS``. Under Ape the script asks
this module which toolkit network and ``--account`` spec Ape's choice means, then calls the same
library code, so the deployment records land in the same ``deployments/<network>/`` folder
whichever way was used:

* network: the ``pkr-pilot.toml`` network whose URL is the provider's, else the provider's URL
  (exactly what ``pkr-pilot --network URL`` uses, so ``pkr-pilot verify --network URL`` finds it);
* account: an Ape keyfile account ``ALIAS`` is ``ape:ALIAS`` (unlocked by the toolkit, same
  password rules), an Ape test account ``TEST::N`` is ``dev:N`` (the same public mnemonic).

Ape's objects are taken duck-typed; nothing here imports Ape.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .accounts import dev_address
from .config import Project
from .errors import PilotError, UserInputError

__all__ = ["account_spec", "network_for", "provider_url", "run_script"]


def provider_url(provider: Any) -> str:
    """The HTTP(S) JSON-RPC URL of an Ape provider (``http_uri``, else ``uri``)."""
    for attr in ("http_uri", "uri"):
        url = getattr(provider, attr, None)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url
    raise UserInputError(
        f"Ape's provider {getattr(provider, 'name', provider)!r} has no HTTP JSON-RPC URL",
        hint="choose a node-backed network, e.g. --network ethereum:local:foundry or a URL",
    )


def network_for(project: Project, provider: Any) -> str:
    """The toolkit network (name, or URL) behind an Ape provider."""
    url = provider_url(provider)
    for name, network in project.networks.items():
        if network.url and network.url.rstrip("/") == url.rstrip("/"):
            return name
    return url


def account_spec(account: Any) -> str:
    """The toolkit ``--account`` spec of an Ape account object.

    Raises:
        UserInputError: an Ape account kind the toolkit cannot sign with (e.g. a hardware wallet).
    """
    alias = getattr(account, "alias", None)
    if type(account).__name__ == "KeyfileAccount" and isinstance(alias, str):
        return f"ape:{alias}"
    index = getattr(account, "index", None)
    if isinstance(index, int) and str(getattr(account, "address", "")) == dev_address(index):
        return f"dev:{index}"
    raise UserInputError(
        f"cannot sign as Ape account {alias or getattr(account, 'address', account)!s}",
        hint="use an Ape keyfile account (ape accounts import/generate) or a test account TEST::N",
    )


def run_script(body: Callable[[], int]) -> NoReturn:
    """Run a script body and exit with its status; a user error prints ``error: …`` (no traceback)."""
    try:
        code = body()
    except PilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(code)
