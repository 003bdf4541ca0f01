"""The EIP-712 message types the token verifies: EIP-2612 ``permit`` and EIP-3009 authorizations.

One definition for every signer (the gas snapshot, the pytest plugin, the tests), in the form
``eth_account``'s ``sign_typed_data`` takes: ``{primary type: [{"name", "type"}, ...]}``.
"""

from __future__ import annotations

__all__ = ["AUTHORIZATION_FIELDS", "CANCEL_AUTHORIZATION_TYPES", "PERMIT_TYPES", "authorization_types"]

PERMIT_TYPES: dict[str, list[dict[str, str]]] = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}

#: The fields of ``TransferWithAuthorization`` and ``ReceiveWithAuthorization`` (the same list).
AUTHORIZATION_FIELDS: list[dict[str, str]] = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]

CANCEL_AUTHORIZATION_TYPES: dict[str, list[dict[str, str]]] = {
    "CancelAuthorization": [
        {"name": "authorizer", "type": "address"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


def authorization_types(primary: str) -> dict[str, list[dict[str, str]]]:
    """``{primary: AUTHORIZATION_FIELDS}`` for ``TransferWithAuthorization`` or ``ReceiveWithAuthorization``."""
    if primary not in ("TransferWithAuthorization", "ReceiveWithAuthorization"):
        raise ValueError(f"{primary!r} is not an EIP-3009 authorization type")
    return {primary: AUTHORIZATION_FIELDS}
