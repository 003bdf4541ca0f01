"""Account references of a deploy config -> addresses, and the keys that may sign steps.

Dev keys (``dev:N``) are the public anvil test keys and are only used on dev chain
ids; a keystore reference resolves to the address stored in the keystore file, so
no password is needed to *name* an account, only to sign with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..amounts import parse_address
from ..errors import AccountError, ConfigError, DevKeyRefused, UserInputError

if TYPE_CHECKING:
    from ..tx import TxSigner

__all__ = ["dev_address", "dev_signer", "resolve_accounts"]

def dev_address(index: int) -> str:
    from ..accounts import dev_address as _dev_address

    return _dev_address(index)


def dev_signer(index: int, *, chain_id: int, dev_chain_ids: Iterable[int] = ()) -> TxSigner:
    """The public anvil key ``dev:index``; refused unless ``chain_id`` is a dev chain."""
    from ..accounts import dev_account

    dev_ids = set(dev_chain_ids)
    if dev_ids and chain_id not in dev_ids:
        raise DevKeyRefused(
            f"dev:{index} is a public test key and chain {chain_id} is not a local dev chain",
            hint="use a keystore account (keystore:NAME)",
        )
    signer: TxSigner = dev_account(index, chain_id=chain_id)
    return signer


def keystore_address(keystores: Path, name: str) -> str:
    path = keystores / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise AccountError(
            f"keystore {name!r} not found in {keystores}", hint="create it with `pkr-pilot accounts new`"
        ) from None
    except json.JSONDecodeError:
        raise AccountError(f"keystore {path} is not valid JSON") from None
    raw = data.get("address")
    if not isinstance(raw, str):
        raise AccountError(f"keystore {path} holds no address")
    return parse_address(raw if raw.startswith("0x") else "0x" + raw, what=f"keystore {name} address")


def resolve_accounts(
    refs: Iterable[str],
    *,
    deployer: str,
    chain_id: int,
    dev_chain_ids: Iterable[int],
    keystores: Path,
) -> dict[str, str]:
    """Map every non-contract account reference to a checksummed address."""
    dev_ids = set(dev_chain_ids)
    out: dict[str, str] = {"deployer": deployer}
    for ref in refs:
        if ref in out or ref in ("timelock", "mint_desk", "anyone"):
            continue
        if ref.startswith("dev:"):
            if chain_id not in dev_ids:
                raise ConfigError(
                    f"the deploy config names {ref}, a public test key, but chain {chain_id} is not a dev chain",
                    hint="use addresses or keystore:NAME in the deploy config for this network",
                )
            out[ref] = dev_address(int(ref[4:]))
        elif ref.startswith("keystore:"):
            out[ref] = keystore_address(keystores, ref[9:])
        else:
            try:
                out[ref] = parse_address(ref)
            except UserInputError as exc:
                raise ConfigError(exc.message) from None
    return out


def refs_of(config: Any) -> list[str]:
    """Every account reference in a :class:`DeployConfig`."""
    from .config import _all_refs

    return list(dict.fromkeys(_all_refs(config)))


def signer_map(signers: Mapping[str, TxSigner] | Iterable[TxSigner] | None) -> dict[str, TxSigner]:
    if signers is None:
        return {}
    if isinstance(signers, Mapping):
        return {parse_address(str(k)): v for k, v in signers.items()}
    return {parse_address(s.address): s for s in signers}
