"""``pkr_pilot.testing``: a pytest plugin that gives any project's tests a deployed PKRP stack.

Installed with pkr-pilot (entry point ``pytest11``: ``pkr_pilot``), it only registers options and
fixtures; nothing heavy is imported until a test asks for a fixture. Fixtures (all prefixed
``pkrp`` so they never clash with a project's own):

=================  =========  ==============================================================
fixture            scope      what
=================  =========  ==============================================================
``pkrp_chain``     session    a dev chain: a managed anvil or in-process py-evm
``pkrp_deployed``  session    the stack deployed once (built-in dev config), wallets funded
``pkrp``           function   the same :class:`PkrpStack` on a snapshot reverted after the test
``pkrp_actors``    function   role name -> signer (admin, minter, freezer, attestor, ...)
``pkrp_wallets``   function   ten funded wallets without roles (ETH and 1,000.00 PKRP each)
=================  =========  ==============================================================

Helpers on :class:`PkrpStack`: ``pkrp.mint(to, "100.00")``, ``pkrp.freeze(addr)``,
``pkrp.attest("2,000,000,000")``, ``pkrp.send(actor, call)``, ``pkrp.balance(addr)``.
:func:`compile_contracts` compiles a project's own ``contracts/`` with the toolkit's compiler.

Configuration (``pytest.ini`` / ``[tool.pytest.ini_options]``, or the command line):

* ``pkrp_backend = anvil | memory`` (``--pkrp-backend``; default ``memory``: py-evm, no Node.js);
* ``pkrp_root = PATH``: the pkr-pilot checkout whose contracts are deployed (default:
  ``$PKR_PILOT_ROOT``, else the checkout pkr-pilot is installed from).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._project import compile_contracts, toolkit_project
    from ._stack import Amount, PkrpStack, actors_of

__all__ = ["Amount", "PkrpStack", "actors_of", "compile_contracts", "toolkit_project"]

_LAZY = {
    "Amount": "._stack",
    "PkrpStack": "._stack",
    "actors_of": "._stack",
    "compile_contracts": "._project",
    "toolkit_project": "._project",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
