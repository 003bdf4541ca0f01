"""Runtime-code comparison: immutables masked, solc's CBOR metadata trailer optional.

solc appends ``CBOR(metadata) || uint16(len(CBOR))`` to the runtime code. The
metadata holds the IPFS hash of the metadata JSON, which covers the source files
(comments included) and the settings. Two comparisons follow:

* **full** match: every byte equal once the immutable slots (filled by the
  constructor, listed in ``immutableReferences``) are zeroed on both sides;
* **partial** match: equal after also cutting the metadata trailer, i.e. the
  executable code is the same but the sources differ in a way that does not
  change code (comments, whitespace, NatSpec, file paths).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

__all__ = ["CodeMatch", "code_hash", "compare_code", "mask_immutables", "strip_metadata"]

CodeMatch = Literal["full", "partial", "mismatch"]


def mask_immutables(code: bytes, refs: Mapping[str, Sequence[Mapping[str, Any]]] | None) -> bytes:
    """``code`` with every immutable reference zeroed."""
    if not refs:
        return code
    out = bytearray(code)
    for items in refs.values():
        for ref in items:
            start, length = int(ref["start"]), int(ref["length"])
            if start + length <= len(out):
                out[start : start + length] = bytes(length)
    return bytes(out)


def strip_metadata(code: bytes) -> bytes:
    """``code`` without solc's CBOR metadata trailer (unchanged if none is recognised)."""
    if len(code) < 2:
        return code
    length = int.from_bytes(code[-2:], "big")
    start = len(code) - 2 - length
    # A CBOR map with the "ipfs"/"bzzr"/"solc" keys starts with 0xa1..0xa4.
    if length == 0 or start < 0 or code[start] & 0xF0 != 0xA0:
        return code
    return code[:start]


def compare_code(
    on_chain: bytes, expected: bytes, immutable_references: Mapping[str, Sequence[Mapping[str, Any]]] | None
) -> CodeMatch:
    """How ``on_chain`` runtime code relates to the compiler's ``expected`` runtime code."""
    if not on_chain:
        return "mismatch"
    masked = mask_immutables(on_chain, immutable_references)
    local = mask_immutables(expected, immutable_references)
    if masked == local:
        return "full"
    if strip_metadata(masked) == strip_metadata(local):
        return "partial"
    return "mismatch"


def code_hash(code: bytes, immutable_references: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> str:
    """keccak of the executable code (immutables masked, metadata cut), 0x-hex."""
    from eth_utils.crypto import keccak

    return "0x" + bytes(keccak(strip_metadata(mask_immutables(code, immutable_references)))).hex()
