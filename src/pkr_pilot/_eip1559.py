"""Fast signing of EIP-1559 (type 2) transactions, byte-identical to eth-account.

The bulk engine signs thousands of transactions of one fixed shape: ``chainId``,
``nonce``, ``maxPriorityFeePerGas``, ``maxFeePerGas``, ``gas``, ``to``, ``value``,
``data`` and an empty access list. eth-account's ``LocalAccount.sign_transaction``
normalises and validates each dict with many formatter passes, checksums the
addresses twice and re-derives the public key from the private key on every call:
about 1.2 ms per transaction on this machine (800/s per core, even with the
coincurve backend). This module RLP-encodes exactly that shape, hashes it with
keccak and signs the hash once with coincurve (a hard dependency, and the library behind
eth-keys' ``CoinCurveECCBackend``): about 7,000 transactions/s per core.

Safety: both libraries produce deterministic RFC 6979 signatures, so the result is
the same bytes eth-account produces. :func:`sign_dynamic_fee_transactions` checks
that on the first transaction of every call (it also signs it with eth-account and
compares) and raises if they ever differ; a transaction of any other shape is
signed by eth-account itself.

The private key never leaves the call: it is read from the ``LocalAccount`` handed
in and dropped when the function returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .sending import quantity

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["FAST_FIELDS", "is_fast_shape", "sign_dynamic_fee_transactions", "sign_with_keys", "signing_backend"]

#: The fields a transaction may carry to take the fast path (``type``/``accessList`` optional).
FAST_FIELDS = frozenset(
    {"chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "data"}
)
_OPTIONAL = frozenset({"type", "accessList"})


def signing_backend() -> str:
    """The library the fast path signs with (reported by the bulk benchmark)."""
    return "coincurve"


def is_fast_shape(tx: Mapping[str, Any]) -> bool:
    """True when ``tx`` is a plain EIP-1559 call this module signs itself."""
    keys = set(tx)
    if not FAST_FIELDS <= keys or not keys <= FAST_FIELDS | _OPTIONAL:
        return False
    if tx.get("type", 2) not in (2, "0x2", "0x02"):
        return False
    if tx.get("accessList", ()) not in ((), []):
        return False
    to = tx["to"]
    return isinstance(to, str) and len(to) == 42 and to.startswith("0x")


def sign_dynamic_fee_transactions(account: LocalAccount, txs: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Raw signed bytes of each of ``txs`` (in order), as ``account.sign_transaction`` would give.

    Raises:
        RuntimeError: the fast encoding of the first transaction differs from eth-account's
            (a library change; nothing has been sent).
    """
    if not txs:
        return []
    sign_hash = _hash_signer(bytes(account.key))

    def reference(tx: Mapping[str, Any]) -> bytes:
        return bytes(account.sign_transaction(dict(tx)).raw_transaction)

    return _sign_checked((tx, sign_hash, reference) for tx in txs)


def sign_with_keys(items: Sequence[tuple[bytes, Mapping[str, Any]]]) -> list[bytes]:
    """Raw signed bytes of each ``(private key, transaction)``, in order: many signers, one call.

    For callers that hold many throw-away keys (the simulator derives each wallet's key from its
    seed): the same encoding and the same eth-account cross-check, on the first fast-shaped item.
    """
    from eth_account import Account

    def reference_for(key: bytes) -> Callable[[Mapping[str, Any]], bytes]:
        return lambda tx: bytes(Account.from_key(key).sign_transaction(dict(tx)).raw_transaction)

    return _sign_checked((tx, _hash_signer(key), reference_for(key)) for key, tx in items)


def _sign_checked(
    items: Iterable[tuple[Mapping[str, Any], Callable[[bytes], tuple[int, int, int]], Callable[[Mapping[str, Any]], bytes]]],
) -> list[bytes]:
    """Each ``(tx, fast signer, eth-account signer)`` signed on the fast path when its shape allows,
    the first such one also by eth-account and compared (a mismatch raises before anything is used)."""
    out: list[bytes] = []
    checked = False
    for tx, sign_hash, reference in items:
        if not is_fast_shape(tx):
            out.append(reference(tx))
            continue
        raw = _sign_one(tx, sign_hash)
        if not checked:
            if reference(tx) != raw:
                raise RuntimeError(
                    "fast EIP-1559 signing differs from eth-account's; refusing to sign "
                    "(report this with your eth-account, eth-keys and coincurve versions)"
                )
            checked = True
        out.append(raw)
    return out


def _sign_one(tx: Mapping[str, Any], sign_hash: Callable[[bytes], tuple[int, int, int]]) -> bytes:
    from eth_hash.auto import keccak
    from rlp.codec import encode_raw
    from rlp.sedes import big_endian_int

    uint = big_endian_int.serialize  # serialising up front skips rlp's per-item type inference
    data = tx["data"]
    if isinstance(data, str):
        data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
    fields: list[Any] = [
        uint(quantity(tx["chainId"])),
        uint(quantity(tx["nonce"])),
        uint(quantity(tx["maxPriorityFeePerGas"])),
        uint(quantity(tx["maxFeePerGas"])),
        uint(quantity(tx["gas"])),
        bytes.fromhex(tx["to"][2:]),
        uint(quantity(tx["value"])),
        bytes(data),
        [],  # the empty access list
    ]
    v, r, s = sign_hash(keccak(b"\x02" + encode_raw(fields)))
    return b"\x02" + bytes(encode_raw([*fields, uint(v), uint(r), uint(s)]))


def _hash_signer(key: bytes) -> Callable[[bytes], tuple[int, int, int]]:
    """A function signing a 32-byte digest: (y-parity, r, s), low-s like every Ethereum signer."""
    import coincurve

    secret = coincurve.PrivateKey(key)

    def sign(digest: bytes) -> tuple[int, int, int]:
        sig = secret.sign_recoverable(digest, hasher=None)
        return sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")

    return sign
