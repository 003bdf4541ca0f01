"""Accounts: the public dev keys, Web3 Secret Storage keystores, and signers that keep keys inside.

Account specs (``--account`` and ``[networks.NAME.accounts]`` in ``pkr-pilot.toml``)::

    dev:N           key N of the public anvil test mnemonic; signs only on chain ids 31337 / 1337
    keystore:NAME   .pkr-pilot/keystores/NAME.json (Web3 Secret Storage v3, scrypt)
    NAME            the same as keystore:NAME
    ape:ALIAS       an Ape account (``ape accounts generate/import ALIAS``): the keyfile
                    ``$APE_DATA_FOLDER/accounts/ALIAS.json`` (default ``~/.ape``), the same
                    Web3 Secret Storage format, unlocked with the same password rules

The test mnemonic (``test test … junk``) is published in every Foundry and Hardhat
guide: it is the only key material allowed in this repository, and its keys are
refused on any chain that is not a local dev chain, however they are loaded (as
``dev:N`` or imported into a keystore).

Passwords are given explicitly (a string, or a callable asked only when a keystore
is actually unlocked), else read from ``$PKR_PILOT_PASSWORD``. The variable is meant
for automation (CI, scripted drills): anyone who can read the process environment
can read it, so prefer the hidden prompt of the CLI by hand.

::

    from pkr_pilot.accounts import create_keystore, load_account

    create_keystore(project.paths.keystores, "operator", password)   # a fresh random key
    signer = load_account(project, "keystore:operator", chain_id=2026, password=password)
    signed = signer.sign_transaction(tx)                              # tx must carry chainId
    repr(signer)                        # Signer(name='keystore:operator', address=0x…), no key
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ._files import atomic_write_bytes
from .config import DEV_CHAIN_IDS
from .errors import AccountError, DevKeyRefused, UserInputError
from .sending import quantity

if TYPE_CHECKING:
    from eth_account.datastructures import SignedMessage, SignedTransaction
    from eth_account.messages import SignableMessage
    from eth_account.signers.local import LocalAccount

    from .config import Project

__all__ = [
    "DEFAULT_SCRYPT_N",
    "DEV_ACCOUNT_COUNT",
    "DEV_BALANCE_WEI",
    "DEV_DERIVATION_PATH",
    "DEV_MNEMONIC",
    "PASSWORD_ENV",
    "AccountSpec",
    "KeystoreEntry",
    "PasswordSource",
    "Signer",
    "ape_accounts_folder",
    "create_keystore",
    "dev_account",
    "dev_address",
    "dev_addresses",
    "eth_keys_backend",
    "keystore_path",
    "list_keystores",
    "load_account",
    "parse_account_spec",
    "unlock_keystore",
]

#: The public anvil / Hardhat test mnemonic. Its keys are known to everyone.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
#: anvil's derivation path: account N is ``m/44'/60'/0'/0/N``.
DEV_DERIVATION_PATH = "m/44'/60'/0'/0"
#: How many dev accounts the local backends fund (anvil's default).
DEV_ACCOUNT_COUNT = 10
#: Each funded dev account starts with 10,000 ETH (anvil's default), in wei.
DEV_BALANCE_WEI = 10_000 * 10**18
#: Highest N accepted in ``dev:N`` (accounts past DEV_ACCOUNT_COUNT exist but start unfunded).
DEV_MAX_INDEX = 999

#: Web3 Secret Storage scrypt cost: geth's "standard" n (about 1 s to unlock).
DEFAULT_SCRYPT_N = 2**18
PASSWORD_ENV = "PKR_PILOT_PASSWORD"  # noqa: S105 - the variable's name, not a password

#: A password, or a callable given the keystore name that returns one (e.g. a hidden prompt).
PasswordSource = str | Callable[[str], str]

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KEY_LIKE_RE = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ADDRESS_LIKE_RE = re.compile(r"0x[0-9a-fA-F]{40}")


# --------------------------------------------------------------------------- account specs


@dataclass(frozen=True)
class AccountSpec:
    """A parsed account reference: ``dev:N``, ``keystore:NAME`` or ``ape:ALIAS``."""

    kind: Literal["dev", "keystore", "ape"]
    index: int = 0
    name: str = ""

    def __str__(self) -> str:
        return f"dev:{self.index}" if self.kind == "dev" else f"{self.kind}:{self.name}"


def parse_account_spec(text: str) -> AccountSpec:
    """Parse ``dev:N``, ``keystore:NAME``, ``ape:ALIAS`` or ``NAME``.

    Something that looks like a private key is refused without being echoed.

    >>> parse_account_spec("dev:3")
    AccountSpec(kind='dev', index=3, name='')
    >>> str(parse_account_spec("operator"))
    'keystore:operator'
    """
    text = text.strip()
    if _KEY_LIKE_RE.fullmatch(text):
        raise UserInputError(
            "that looks like a private key, not an account name",
            hint="never pass keys on the command line (treat this one as exposed); "
            "import it with `pkr-pilot accounts import NAME` and use NAME",
        )
    if _ADDRESS_LIKE_RE.fullmatch(text):
        raise UserInputError(
            f"{text} is an address, not an account that can sign",
            hint="use dev:N or a keystore name (`pkr-pilot accounts list`)",
        )
    if text.startswith("dev:"):
        raw = text[4:]
        if not raw.isdigit() or int(raw) > DEV_MAX_INDEX:
            raise UserInputError(
                f"bad dev account {text!r}",
                hint=f"use dev:0 … dev:{DEV_ACCOUNT_COUNT - 1} (funded) or up to dev:{DEV_MAX_INDEX}",
            )
        return AccountSpec("dev", index=int(raw))
    if text.startswith("ape:"):
        return AccountSpec("ape", name=_check_name(text[len("ape:") :]))
    name = text[len("keystore:") :] if text.startswith("keystore:") else text
    return AccountSpec("keystore", name=_check_name(name))


def _check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise UserInputError(
            f"bad keystore name {name!r}",
            hint="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


# --------------------------------------------------------------------------- signer


class Signer:
    """A named account that signs; its private key never leaves the object.

    ``repr``/``str`` show the name and checksummed address only; a signer cannot be
    pickled (so it cannot end up in a cache file or a multiprocessing payload), and
    copying returns the same object. A dev signer refuses a transaction or typed
    message whose chain id is not a local dev chain, wherever it came from.

    It satisfies :class:`pkr_pilot.tx.TxSigner` (``address`` + ``sign_transaction``).
    """

    __slots__ = ("_account", "_is_dev", "address", "name")

    name: str
    address: str
    _account: LocalAccount
    _is_dev: bool

    def __init__(self, name: str, account: LocalAccount, *, is_dev: bool = False) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "address", str(account.address))  # eth-account checksums
        object.__setattr__(self, "_account", account)
        object.__setattr__(self, "_is_dev", is_dev)

    @property
    def is_dev(self) -> bool:
        """True for the public test keys (``dev:N``)."""
        return self._is_dev

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction:
        """Sign ``tx`` (a web3 ``TxParams``-like mapping that names its ``chainId``).

        Raises:
            AccountError: ``chainId`` is missing (such a signature replays on any chain).
            DevKeyRefused: a dev key and a chain id outside 31337 / 1337.
        """
        raw = tx.get("chainId")
        if raw is None:
            raise AccountError(
                f"{self.name}: refusing to sign a transaction without chainId",
                hint="a signature without a chain id can be replayed on any chain; set chainId",
            )
        self._check_chain(quantity(raw), "a transaction")
        return self._account.sign_transaction(dict(tx))

    def sign_transactions(self, txs: Sequence[Mapping[str, Any]]) -> list[bytes]:
        """Raw signed bytes of many transactions, in order (the bulk engine's fast path).

        The same checks as :meth:`sign_transaction`; plain EIP-1559 calls are signed by
        :mod:`pkr_pilot._eip1559` (byte-identical to eth-account, about 8x faster).
        """
        from ._eip1559 import sign_dynamic_fee_transactions

        for tx in txs:
            raw = tx.get("chainId")
            if raw is None:
                raise AccountError(f"{self.name}: refusing to sign a transaction without chainId")
            self._check_chain(quantity(raw), "a transaction")
        return sign_dynamic_fee_transactions(self._account, txs)

    def sign_typed_data(
        self,
        domain_data: Mapping[str, Any] | None = None,
        message_types: Mapping[str, Any] | None = None,
        message_data: Mapping[str, Any] | None = None,
        full_message: Mapping[str, Any] | None = None,
    ) -> SignedMessage:
        """Sign EIP-712 data (same arguments as ``LocalAccount.sign_typed_data``)."""
        domain = domain_data if domain_data is not None else (full_message or {}).get("domain", {})
        if self._is_dev and isinstance(domain, Mapping) and domain.get("chainId") is not None:
            self._check_chain(quantity(domain["chainId"]), "typed data")
        return self._account.sign_typed_data(
            dict(domain_data) if domain_data is not None else None,
            dict(message_types) if message_types is not None else None,
            dict(message_data) if message_data is not None else None,
            dict(full_message) if full_message is not None else None,
        )

    def sign_message(self, message: SignableMessage) -> SignedMessage:
        """Sign an EIP-191 message (``eth_account.messages.encode_defunct`` & co)."""
        return self._account.sign_message(message)

    def _check_chain(self, chain_id: int, what: str) -> None:
        if self._is_dev and chain_id not in DEV_CHAIN_IDS:
            _refuse_dev(self.name, chain_id, what=f"sign {what} for")

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, address={self.address})"

    __str__ = __repr__

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Signer is read-only (cannot set {key})")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled")

    def __copy__(self) -> Signer:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Signer:
        return self


def _refuse_dev(name: str, chain_id: int, *, what: str = "use it on") -> NoReturn:
    raise DevKeyRefused(
        f"{name} is a public anvil test key: refusing to {what} chain id {chain_id} "
        f"(dev keys only work on local dev chains {sorted(DEV_CHAIN_IDS)})",
        hint="use a keystore account (`pkr-pilot accounts new NAME`, then --account NAME)",
    )


# --------------------------------------------------------------------------- dev accounts


@lru_cache(maxsize=64)
def _dev_local_account(index: int) -> LocalAccount:
    # The HD-wallet toggle is global in eth-account; switch it on only where derivation
    # happens, never at import. Cached: derivation costs ~6 ms and the keys are public.
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(
        DEV_MNEMONIC, account_path=f"{DEV_DERIVATION_PATH}/{index}"
    )
    return account


def dev_account(index: int, *, chain_id: int | None = None) -> Signer:
    """The signer ``dev:index`` from the public test mnemonic.

    With ``chain_id``, refuse at once unless it is a local dev chain; in any case
    the signer refuses to sign for a non-dev chain id.
    """
    if not 0 <= index <= DEV_MAX_INDEX:
        raise UserInputError(f"dev account index {index} out of range 0..{DEV_MAX_INDEX}")
    name = f"dev:{index}"
    if chain_id is not None and chain_id not in DEV_CHAIN_IDS:
        _refuse_dev(name, chain_id)
    return Signer(name, _dev_local_account(index), is_dev=True)


def dev_address(index: int) -> str:
    """Checksummed address of ``dev:index`` (the same on anvil and the memory backend)."""
    return str(_dev_local_account(index).address)


def dev_addresses(count: int = DEV_ACCOUNT_COUNT) -> tuple[str, ...]:
    """Checksummed addresses of ``dev:0`` … ``dev:count-1``."""
    return tuple(dev_address(i) for i in range(count))


def _dev_index_of(address: str, *, scan: int = 2 * DEV_ACCOUNT_COUNT) -> int | None:
    lowered = address.lower()
    for i in range(scan):
        if dev_address(i).lower() == lowered:
            return i
    return None


# --------------------------------------------------------------------------- keystores


@dataclass(frozen=True)
class KeystoreEntry:
    """One keystore file, read without decrypting it."""

    name: str
    path: Path
    #: Checksummed address from the file, None when the file is unreadable.
    address: str | None
    #: Why the file could not be read (None when it is fine).
    problem: str | None = None


def keystore_path(directory: Path, name: str) -> Path:
    """``directory/NAME.json`` after checking the name."""
    return directory / f"{_check_name(name)}.json"


def create_keystore(
    directory: Path,
    name: str,
    password: str,
    *,
    private_key: str | bytes | None = None,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> KeystoreEntry:
    """Write a new keystore ``directory/NAME.json`` (mode 0600, atomic, never overwrites).

    ``private_key`` (hex text or 32 bytes) imports a key; None creates a random one.
    ``scrypt_n`` is the scrypt cost (a power of two); keep the default for real keys,
    tests pass a small value (e.g. ``2**10``) to stay fast.

    Raises:
        AccountError: ``NAME`` exists already, or the key is a public dev key.
        UserInputError: bad name, empty password, or not a private key.
    """
    from eth_account import Account

    path = keystore_path(directory, name)
    if not password:
        raise UserInputError("empty password", hint="a keystore needs a password")
    if scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
        raise UserInputError(f"scrypt n must be a power of two, got {scrypt_n}")
    if path.exists():
        raise _exists(name, path)
    if private_key is None:
        account = Account.create()
    else:
        account = Account.from_key(_parse_private_key(private_key))
        dev_index = _dev_index_of(str(account.address))
        if dev_index is not None:
            raise AccountError(
                f"that key is the public anvil test key dev:{dev_index}; refusing to store it as {name!r}",
                hint=f"use --account dev:{dev_index} on a local dev chain instead",
            )
    keyfile = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    data = (json.dumps(keyfile, indent=2, sort_keys=True) + "\n").encode()
    _write_new_private_file(path, data, name)
    return KeystoreEntry(name=name, path=path, address=str(account.address))


def list_keystores(directory: Path) -> list[KeystoreEntry]:
    """Every ``*.json`` keystore in ``directory`` (sorted by name); no password needed."""
    if not directory.is_dir():
        return []
    entries: list[KeystoreEntry] = []
    for path in sorted(directory.glob("*.json")):
        name = path.stem
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            address = _keyfile_address(data)
        except (OSError, ValueError) as exc:
            entries.append(KeystoreEntry(name, path, None, problem=str(exc).splitlines()[0]))
            continue
        entries.append(KeystoreEntry(name, path, address))
    return entries


def unlock_keystore(
    directory: Path,
    name: str,
    password: PasswordSource | None = None,
    *,
    chain_id: int | None = None,
    env: Mapping[str, str] | None = None,
    kind: Literal["keystore", "ape"] = "keystore",
) -> Signer:
    """Decrypt ``directory/NAME.json`` and return its signer (named ``KIND:NAME``).

    ``password`` may be a callable (asked with ``NAME`` only now, after the file was
    found); None reads ``$PKR_PILOT_PASSWORD``. When ``chain_id`` is not a dev chain, a
    keystore holding a public dev key is refused.

    Raises:
        AccountError: missing file, malformed file, no password, or a wrong password.
    """
    from eth_account import Account

    path = keystore_path(directory, name)
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if kind == "ape":
            raise AccountError(
                f"no Ape account named {name!r} in {directory}",
                hint="see `ape accounts list` (with the same APE_DATA_FOLDER), "
                "or create it with `ape accounts generate` / `ape accounts import`",
            ) from None
        raise AccountError(
            f"no keystore named {name!r} in {directory}",
            hint="see `pkr-pilot accounts list`, or create it with `pkr-pilot accounts new`",
        ) from None
    except (OSError, ValueError) as exc:
        raise AccountError(f"keystore {name!r} ({path}) is unreadable: {exc}") from None
    if not isinstance(keyfile, dict) or ("crypto" not in keyfile and "Crypto" not in keyfile):
        raise AccountError(f"keystore {name!r} ({path}) is not a Web3 Secret Storage file")
    secret = _resolve_password(name, password, env)
    try:
        key = Account.decrypt(keyfile, secret)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise AccountError(
                f"wrong password for keystore {name!r}",
                hint=f"type it again, or check ${PASSWORD_ENV} if you set it",
            ) from None
        raise AccountError(f"keystore {name!r} cannot be decrypted: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise AccountError(f"keystore {name!r} ({path}) is malformed (missing {exc})") from None
    account = Account.from_key(key)
    if chain_id is not None and chain_id not in DEV_CHAIN_IDS:
        dev_index = _dev_index_of(str(account.address))
        if dev_index is not None:
            _refuse_dev(f"keystore {name!r} (holds dev:{dev_index})", chain_id)
    return Signer(f"{kind}:{name}", account)


def ape_accounts_folder(env: Mapping[str, str] | None = None) -> Path:
    """Where Ape keeps its keyfiles: ``$APE_DATA_FOLDER/accounts``, default ``~/.ape/accounts``."""
    env = os.environ if env is None else env
    data = env.get("APE_DATA_FOLDER")
    return (Path(data).expanduser() if data else Path.home() / ".ape") / "accounts"


def load_account(
    project: Project | None,
    spec: str | AccountSpec,
    *,
    chain_id: int,
    password: PasswordSource | None = None,
    keystore_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Signer:
    """Resolve ``--account SPEC`` to a signer for the chain ``chain_id``.

    ``dev:N`` only when ``chain_id`` is 31337 or 1337 (else :class:`DevKeyRefused`);
    ``keystore:NAME`` / ``NAME`` from ``keystore_dir`` (default: the project's
    ``.pkr-pilot/keystores``), unlocked with ``password`` (see :func:`unlock_keystore`);
    ``ape:ALIAS`` from Ape's folder (:func:`ape_accounts_folder`), with the same password rules.
    """
    parsed = parse_account_spec(spec) if isinstance(spec, str) else spec
    if parsed.kind == "dev":
        return dev_account(parsed.index, chain_id=chain_id)
    if parsed.kind == "ape":
        return unlock_keystore(
            ape_accounts_folder(env), parsed.name, password, chain_id=chain_id, env=env, kind="ape"
        )
    if keystore_dir is None:
        if project is None:
            raise UserInputError(
                "a keystore account needs a project or an explicit keystore folder"
            )
        keystore_dir = project.paths.keystores
    return unlock_keystore(keystore_dir, parsed.name, password, chain_id=chain_id, env=env)


def eth_keys_backend() -> str:
    """Name of the active eth-keys backend (``CoinCurveECCBackend`` when coincurve is installed)."""
    from eth_keys.backends import get_backend

    return type(get_backend()).__name__


# --------------------------------------------------------------------------- helpers


def _resolve_password(
    name: str, password: PasswordSource | None, env: Mapping[str, str] | None
) -> str:
    if callable(password):
        return password(name)
    if password is not None:
        return password
    from_env = (os.environ if env is None else env).get(PASSWORD_ENV)
    if from_env:
        return from_env
    raise AccountError(
        f"keystore {name!r} needs a password",
        hint=f"run interactively to be prompted, or set {PASSWORD_ENV} (for automation)",
    )


def _parse_private_key(value: str | bytes) -> bytes:
    from eth_keys.datatypes import PrivateKey
    from eth_utils.exceptions import ValidationError

    bad = UserInputError("not a private key", hint="expected 64 hexadecimal characters (32 bytes)")
    if isinstance(value, str):
        text = value.strip()
        text = text[2:] if text[:2] in ("0x", "0X") else text
        if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
            raise bad
        raw = bytes.fromhex(text)
    else:
        raw = bytes(value)
        if len(raw) != 32:
            raise bad
    try:
        PrivateKey(raw)
    except ValidationError:
        raise bad from None
    if int.from_bytes(raw, "big") == 0:
        raise bad
    return raw


def _keyfile_address(data: Any) -> str:
    from eth_utils.address import to_checksum_address

    if not isinstance(data, dict) or not isinstance(data.get("address"), str):
        raise ValueError("no address field (not a Web3 Secret Storage file?)")
    raw = data["address"]
    return str(to_checksum_address(raw if raw.startswith("0x") else "0x" + raw))


def _exists(name: str, path: Path) -> AccountError:
    return AccountError(
        f"a keystore named {name!r} already exists ({path})",
        hint="choose another name; existing keystores are never overwritten",
    )


def _write_new_private_file(path: Path, data: bytes, name: str) -> None:
    """Write ``data`` to ``path`` with mode 0600, atomically, failing if ``path`` exists."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        atomic_write_bytes(path, data, mode=0o600, exclusive=True)
    except FileExistsError:
        raise _exists(name, path) from None
