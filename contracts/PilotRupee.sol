// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {AccessControlDefaultAdminRulesUpgradeable} from
    "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";
import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";
import {MulticallUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/MulticallUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

import {IPilotRupee} from "./interfaces/IPilotRupee.sol";

/// @title PilotRupee (PKRP)
/// @notice Rupee-pegged pilot stablecoin: reserve-backed minting, redemption burns, full and partial
/// freeze, seize, pause, wallet tiers with limits, allowlist mode, EIP-2612 and EIP-3009, UUPS.
/// @dev GAS-OPTIMISED CORE. The ERC-20 core is written here instead of inheriting ERC20Upgradeable so
/// that each account's whole state (balance, frozen amount, frozen flag, exemption flag, tier) sits in
/// ONE storage word and every transfer reads exactly one global word (supply, cap, pause and the two
/// control switches). A transfer therefore touches three cold slots, the same as a plain ERC-20 with
/// a pause flag, which is what the gas budgets in contracts/README.md require. Everything around the
/// core (EIP-712, nonces, signature checks, access control, UUPS, multicall) is OpenZeppelin 5.4.
/// The code is plain Solidity except five fenced assembly blocks, each commented line by line: the ERC-7201
/// storage pointer, the two mapping-slot helpers {_accountSlot} and {_allowanceSlot}, and {_emitTransfer}
/// (measured savings in contracts/README.md). `unchecked` blocks state why they cannot wrap.
///
/// Every balance change goes through {_update} (transfer, the payments with a reference, transferFrom, mint,
/// burn, EIP-3009, and multicall, which only re-enters these). The single documented exception is {seize}, which uses
/// {_seizeUpdate}: the same debit/credit helpers with the pause check and the freeze check on `from`
/// bypassed (a court order must work on frozen funds and during an incident).
contract PilotRupee is
    IPilotRupee,
    AccessControlDefaultAdminRulesUpgradeable,
    EIP712Upgradeable,
    NoncesUpgradeable,
    MulticallUpgradeable,
    UUPSUpgradeable
{
    // ------------------------------------------------------------------------------------------
    // Roles and typehashes
    // ------------------------------------------------------------------------------------------

    bytes32 public constant MINTER_ADMIN_ROLE = keccak256("MINTER_ADMIN_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant UNPAUSER_ROLE = keccak256("UNPAUSER_ROLE");
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    bytes32 public constant SEIZER_ROLE = keccak256("SEIZER_ROLE");
    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");
    bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");
    bytes32 public constant RESCUER_ROLE = keccak256("RESCUER_ROLE");
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");
    bytes32 public constant KYC_ROLE = keccak256("KYC_ROLE");

    /// @dev keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")
    bytes32 public constant PERMIT_TYPEHASH = 0x6e71edae12b1b97f4d1f60370fef10105fa2faae0126114a169c64845d6126c9;
    /// @dev keccak256("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)")
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH =
        0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267;
    /// @dev keccak256("ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)")
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH =
        0xd099cc98ef71107a616c4f0f941f04c322d8e254fe26b3c6668db87aae413de8;
    /// @dev keccak256("CancelAuthorization(address authorizer,bytes32 nonce)")
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        0x158b0a9edf7a828aad02f63cd515c68ef2f50ba807396f6d12842833a1597429;

    /// @dev Max attestation age set by {initialize}; the admin changes it with {setMaxAttestationAge}.
    uint64 internal constant _DEFAULT_MAX_ATTESTATION_AGE = 1 days;

    // ------------------------------------------------------------------------------------------
    // Packed words (bit layouts; see contracts/README.md)
    // ------------------------------------------------------------------------------------------

    uint256 private constant _MASK64 = (1 << 64) - 1;
    uint256 private constant _MASK96 = (1 << 96) - 1;
    uint256 private constant _MASK128 = (1 << 128) - 1;

    // Account word: [0,96) balance | [96,192) frozen amount | 192 frozen flag | 193 exempt flag |
    //               [200,208) tier | rest zero.
    uint256 private constant _FROZEN_SHIFT = 96;
    uint256 private constant _ACCOUNT_FROZEN = 1 << 192;
    uint256 private constant _ACCOUNT_EXEMPT = 1 << 193;
    uint256 private constant _TIER_SHIFT = 200;
    uint256 private constant _TIER_MASK = uint256(0xff) << 200;

    // Global word: [0,96) total supply | [96,192) supply cap | 192 paused | 193 limits on |
    //              194 allowlist on | rest zero.
    uint256 private constant _CAP_SHIFT = 96;
    uint256 private constant _GLOBAL_PAUSED = 1 << 192;
    uint256 private constant _GLOBAL_LIMITS = 1 << 193;
    uint256 private constant _GLOBAL_ALLOWLIST = 1 << 194;

    // Reserves word: [0,128) attested amount | [128,192) asOf | [192,256) max attestation age.
    uint256 private constant _ASOF_SHIFT = 128;
    uint256 private constant _MAXAGE_SHIFT = 192;

    // Minter word: [0,128) remaining allowance | 255 enabled flag.
    uint256 private constant _MINTER_ENABLED = 1 << 255;

    // Tier limits word: [0,128) max balance | [128,256) max daily outflow; type(uint128).max = unlimited.
    uint256 private constant _OUTFLOW_LIMIT_SHIFT = 128;

    // Outflow word: [0,64) day number (block.timestamp / 1 days) | [64,256) amount sent that day.
    uint256 private constant _OUTFLOW_AMOUNT_SHIFT = 64;

    // ------------------------------------------------------------------------------------------
    // Storage (ERC-7201)
    // ------------------------------------------------------------------------------------------

    /// @dev One storage word behind a struct, so a storage pointer to it can be kept: the mapping slot
    /// (a keccak256) is then computed once per read-modify-write instead of twice. Same layout as a plain
    /// `uint256` mapping value.
    struct Word {
        uint256 value;
    }

    /// @custom:storage-location erc7201:pkrpilot.storage.PilotRupee
    struct PilotRupeeStorage {
        /// @dev slot +0: the global word, read by every transfer (layout above).
        uint256 global;
        /// @dev slot +1: the reserves word, read by every mint (layout above).
        uint256 reserves;
        /// @dev slot +2: hash of the last reserve report (not read by mint).
        bytes32 reportHash;
        /// @dev slot +3: block time the last attestation was recorded (not read by mint).
        uint64 attestedAt;
        /// @dev slot +4: account => account word.
        mapping(address account => Word) accounts;
        /// @dev slot +5: owner => spender => allowance (type(uint256).max = infinite, never decreased).
        mapping(address owner => mapping(address spender => Word)) allowances;
        /// @dev slot +6: minter => minter word.
        mapping(address minter => Word) minters;
        /// @dev slot +7: tier => tier limits word.
        mapping(uint8 tier => Word) tierLimitWords;
        /// @dev slot +8: account => outflow word; written only while limits are on.
        mapping(address account => Word) outflows;
        /// @dev slot +9: authorizer => EIP-3009 nonce => used or canceled.
        mapping(address authorizer => mapping(bytes32 nonce => bool)) authorizationStates;
        /// @dev slot +10, +11, +12: ERC-20 metadata.
        string name;
        string symbol;
        uint8 decimals;
        /// @dev slot +13: payer => (ref >> 8) => bitmap of used refs, bit (ref & 0xff). Strict-mode payment
        /// references ({transferWithUniqueReference}); appended, so V1 proxies keep every earlier slot.
        mapping(address payer => mapping(uint256 refHigh => Word)) usedReferences;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("pkrpilot.storage.PilotRupee")) - 1)) & ~bytes32(uint256(0xff))
    ///      keccak256("pkrpilot.storage.PilotRupee") = 0xd4dce9a27a211566639116dad2fe9e741dce1c332f7b3131d836d086af098cfa
    bytes32 private constant _PILOT_RUPEE_STORAGE_LOCATION =
        0x9fdfe9d5f4ed7ee0fde9aa4f4454b07cdbf4e77d7f78d69b61af7d30576e3500;

    /// @dev Slot of the `accounts` mapping: the namespace root + 4 (its position in the struct). Used by
    /// the assembly in {_accountSlot}; tests/contracts check balances read straight from this slot.
    uint256 private constant _ACCOUNTS_SLOT = 0x9fdfe9d5f4ed7ee0fde9aa4f4454b07cdbf4e77d7f78d69b61af7d30576e3504;

    /// @dev Slot of the `allowances` mapping: the namespace root + 5. Used by {_allowanceSlot}.
    uint256 private constant _ALLOWANCES_SLOT = 0x9fdfe9d5f4ed7ee0fde9aa4f4454b07cdbf4e77d7f78d69b61af7d30576e3505;

    /// @dev keccak256("Transfer(address,address,uint256)")
    uint256 private constant _TRANSFER_EVENT_SIGNATURE =
        0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef;

    function _getPilotRupeeStorage() private pure returns (PilotRupeeStorage storage $) {
        assembly ("memory-safe") {
            // Point the storage pointer at the ERC-7201 namespace root computed above.
            $.slot := _PILOT_RUPEE_STORAGE_LOCATION
        }
    }

    // ------------------------------------------------------------------------------------------
    // Construction and initialization
    // ------------------------------------------------------------------------------------------

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc IPilotRupee
    function initialize(
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_,
        address initialAdmin,
        uint48 adminDelay
    ) external initializer {
        if (bytes(name_).length > 31) revert NameTooLong(bytes(name_).length);
        __AccessControlDefaultAdminRules_init(adminDelay, initialAdmin);
        __EIP712_init(name_, "1");
        __Nonces_init();
        __Multicall_init();
        __UUPSUpgradeable_init();
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        $.name = name_;
        $.symbol = symbol_;
        $.decimals = decimals_;
        $.reserves = uint256(_DEFAULT_MAX_ATTESTATION_AGE) << _MAXAGE_SHIFT;
    }

    /// @inheritdoc IPilotRupee
    function version() external pure virtual returns (uint256) {
        return 1;
    }

    // ------------------------------------------------------------------------------------------
    // ERC-20
    // ------------------------------------------------------------------------------------------

    /// @notice The token name (also the EIP-712 domain name).
    function name() external view returns (string memory) {
        return _getPilotRupeeStorage().name;
    }

    /// @notice The token symbol.
    function symbol() external view returns (string memory) {
        return _getPilotRupeeStorage().symbol;
    }

    /// @notice Decimals of the base unit (2 = paisa by default).
    function decimals() external view returns (uint8) {
        return _getPilotRupeeStorage().decimals;
    }

    /// @notice Total supply in base units.
    function totalSupply() external view returns (uint256) {
        return _getPilotRupeeStorage().global & _MASK96;
    }

    /// @notice Balance of `account`, including any frozen part.
    function balanceOf(address account) external view returns (uint256) {
        return _getPilotRupeeStorage().accounts[account].value & _MASK96;
    }

    /// @notice Allowance `spender` may spend from `owner`.
    function allowance(address owner, address spender) external view returns (uint256) {
        return _getPilotRupeeStorage().allowances[owner][spender].value;
    }

    /// @notice Moves `value` from the caller to `to`.
    /// @dev Requirements: caller not zero (ERC20InvalidSender); `to` not zero; not paused; caller and `to`
    /// not frozen; value <= caller's available balance; tier/allowlist rules when on. Emits Transfer.
    function transfer(address to, uint256 value) external returns (bool) {
        _transferFromCaller(to, value);
        return true;
    }

    /// @notice Moves `value` from `from` to `to` using the caller's allowance.
    /// @dev Requirements: caller (spender) not zero (ERC20InvalidSpender) and not frozen; allowance >= value (an infinite allowance is not
    /// decreased); `from` and `to` not zero; plus every transfer rule. Emits Transfer (no Approval).
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        if (msg.sender == address(0)) revert ERC20InvalidSpender(address(0));
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _spendAllowance(from, msg.sender, value);
        _update(from, to, value);
        return true;
    }

    /// @notice Sets the allowance of `spender` over the caller's tokens to `value`.
    /// @dev Requirements: caller not zero (ERC20InvalidApprover); `spender` not zero. Allowed while paused and for frozen accounts: approving moves
    /// no funds, and every spending path re-checks pause and the freeze of owner, spender and recipient.
    /// Emits Approval.
    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Payments with a reference
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IPilotRupee
    function transferWithReference(address to, uint256 value, bytes32 ref) external returns (bool) {
        _transferFromCaller(to, value);
        emit PaymentReference(msg.sender, ref);
        return true;
    }

    /// @inheritdoc IPilotRupee
    function transferWithUniqueReference(address to, uint256 value, bytes32 ref) external returns (bool) {
        // One bit per ref: word (payer, ref >> 8), bit ref & 0xff. Sequential refs share a word, so only the
        // first of each 256 pays for a new storage slot.
        Word storage slot = _getPilotRupeeStorage().usedReferences[msg.sender][uint256(ref) >> 8];
        uint256 bits = slot.value;
        uint256 bit = 1 << (uint256(ref) & 0xff);
        if (bits & bit != 0) revert ReferenceAlreadyUsed(msg.sender, ref);
        slot.value = bits | bit;
        _transferFromCaller(to, value);
        emit PaymentReference(msg.sender, ref);
        return true;
    }

    /// @inheritdoc IPilotRupee
    function referenceUsed(address from, bytes32 ref) external view returns (bool) {
        uint256 bits = _getPilotRupeeStorage().usedReferences[from][uint256(ref) >> 8].value;
        return bits & (1 << (uint256(ref) & 0xff)) != 0;
    }

    // ------------------------------------------------------------------------------------------
    // EIP-2612 and EIP-3009
    // ------------------------------------------------------------------------------------------

    /// @notice EIP-2612: sets `spender`'s allowance over `owner`'s tokens by `owner`'s signature.
    /// @dev Requirements: now <= deadline (ERC2612ExpiredSignature); a valid ECDSA (ERC2612InvalidSigner) or
    /// ERC-1271 (InvalidSignature) signature of `owner` over the current nonce. Allowed while paused and for
    /// frozen accounts (see {approve}). Emits Approval.
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        _permit(owner, spender, value, deadline, _packSignature(v, r, s));
    }

    /// @inheritdoc IPilotRupee
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external
    {
        _permit(owner, spender, value, deadline, signature);
    }

    /// @notice Current EIP-2612 nonce of `owner`.
    function nonces(address owner) public view override(IERC20Permit, NoncesUpgradeable) returns (uint256) {
        return super.nonces(owner);
    }

    /// @notice EIP-712 domain separator (name = token name, version "1", chain id, this proxy).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IPilotRupee
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            _packSignature(v, r, s)
        );
    }

    /// @inheritdoc IPilotRupee
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
    }

    /// @inheritdoc IPilotRupee
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (to != msg.sender) revert CallerNotPayee(msg.sender, to);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH,
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce,
            _packSignature(v, r, s)
        );
    }

    /// @inheritdoc IPilotRupee
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (to != msg.sender) revert CallerNotPayee(msg.sender, to);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
    }

    /// @inheritdoc IPilotRupee
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, _packSignature(v, r, s));
    }

    /// @inheritdoc IPilotRupee
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        _cancelAuthorization(authorizer, nonce, signature);
    }

    /// @inheritdoc IPilotRupee
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _getPilotRupeeStorage().authorizationStates[authorizer][nonce];
    }

    // ------------------------------------------------------------------------------------------
    // Minting, burning, reserves
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IPilotRupee
    function configureMinter(address minter, uint256 allowance_, bytes32 ref)
        external
        onlyRole(MINTER_ADMIN_ROLE)
    {
        if (minter == address(0)) revert ZeroAddress();
        if (hasRole(ATTESTOR_ROLE, minter)) revert MinterAttestorConflict(minter);
        if (allowance_ > _MASK128) revert AmountTooLarge(allowance_, _MASK128);
        _getPilotRupeeStorage().minters[minter].value = _MINTER_ENABLED | allowance_;
        emit MinterConfigured(minter, allowance_, ref);
    }

    /// @inheritdoc IPilotRupee
    function removeMinter(address minter, bytes32 ref) external onlyRole(MINTER_ADMIN_ROLE) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        if ($.minters[minter].value & _MINTER_ENABLED == 0) revert NotMinter(minter);
        delete $.minters[minter].value;
        emit MinterRemoved(minter, ref);
    }

    /// @inheritdoc IPilotRupee
    function minterAllowance(address minter) external view returns (uint256) {
        return _getPilotRupeeStorage().minters[minter].value & _MASK128;
    }

    /// @inheritdoc IPilotRupee
    function isMinter(address account) external view returns (bool) {
        return _getPilotRupeeStorage().minters[account].value & _MINTER_ENABLED != 0;
    }

    /// @inheritdoc IPilotRupee
    function mint(address to, uint256 amount, bytes32 ref) external {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage minterWord = $.minters[msg.sender];
        uint256 m = minterWord.value;
        if (m & _MINTER_ENABLED == 0) revert NotMinter(msg.sender);
        uint256 remaining = m & _MASK128;
        if (amount > remaining) revert MinterAllowanceExceeded(msg.sender, remaining, amount);
        // Cannot borrow into the enabled bit: amount <= remaining, the low 128 bits of m.
        unchecked {
            minterWord.value = m - amount;
        }
        if ($.accounts[msg.sender].value & _ACCOUNT_FROZEN != 0) revert FrozenAccount(msg.sender);
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(address(0), to, amount);
        emit Minted(msg.sender, to, amount, ref);
    }

    /// @inheritdoc IPilotRupee
    function burn(uint256 amount, bytes32 ref) external {
        if (msg.sender == address(0)) revert ERC20InvalidSender(address(0));
        if (
            _getPilotRupeeStorage().minters[msg.sender].value & _MINTER_ENABLED == 0
                && !hasRole(BURNER_ROLE, msg.sender)
        ) revert NotBurner(msg.sender);
        _update(msg.sender, address(0), amount);
        emit Burned(msg.sender, amount, ref);
    }

    /// @inheritdoc IPilotRupee
    function attestReserves(uint256 amount, uint64 asOf, bytes32 reportHash) external onlyRole(ATTESTOR_ROLE) {
        if (amount > _MASK128) revert AmountTooLarge(amount, _MASK128);
        if (asOf > block.timestamp) revert AttestationInFuture(asOf, block.timestamp);
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        uint256 r = $.reserves;
        uint64 lastAsOf = uint64(r >> _ASOF_SHIFT);
        if (asOf < lastAsOf) revert AttestationOutOfOrder(lastAsOf, asOf);
        // Keep the max age (top 64 bits); replace amount and asOf.
        $.reserves = (r & (_MASK64 << _MAXAGE_SHIFT)) | (uint256(asOf) << _ASOF_SHIFT) | amount;
        $.reportHash = reportHash;
        $.attestedAt = uint64(block.timestamp);
        emit ReservesAttested(msg.sender, amount, asOf, reportHash);
    }

    /// @inheritdoc IPilotRupee
    function reserves() external view returns (uint256 amount, uint64 asOf, bytes32 reportHash, uint64 attestedAt) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        uint256 r = $.reserves;
        return (r & _MASK128, uint64(r >> _ASOF_SHIFT), $.reportHash, $.attestedAt);
    }

    /// @inheritdoc IPilotRupee
    function maxAttestationAge() external view returns (uint64) {
        return uint64(_getPilotRupeeStorage().reserves >> _MAXAGE_SHIFT);
    }

    /// @inheritdoc IPilotRupee
    function setMaxAttestationAge(uint64 maxAge, bytes32 ref) external onlyRole(DEFAULT_ADMIN_ROLE) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        $.reserves = ($.reserves & ~(_MASK64 << _MAXAGE_SHIFT)) | (uint256(maxAge) << _MAXAGE_SHIFT);
        emit MaxAttestationAgeSet(maxAge, ref);
    }

    /// @inheritdoc IPilotRupee
    function supplyCap() external view returns (uint256) {
        return (_getPilotRupeeStorage().global >> _CAP_SHIFT) & _MASK96;
    }

    /// @inheritdoc IPilotRupee
    function setSupplyCap(uint256 cap, bytes32 ref) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (cap > _MASK96) revert AmountTooLarge(cap, _MASK96);
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        $.global = ($.global & ~(_MASK96 << _CAP_SHIFT)) | (cap << _CAP_SHIFT);
        emit SupplyCapSet(cap, ref);
    }

    // ------------------------------------------------------------------------------------------
    // Freeze and seize
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IPilotRupee
    function freeze(address account, bytes32 ref) external onlyRole(FREEZER_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage slot = $.accounts[account];
        uint256 w = slot.value;
        if (w & _ACCOUNT_FROZEN != 0) revert AccountAlreadyFrozen(account);
        slot.value = w | _ACCOUNT_FROZEN;
        emit Frozen(account, ref);
    }

    /// @inheritdoc IPilotRupee
    function unfreeze(address account, bytes32 ref) external onlyRole(FREEZER_ROLE) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage slot = $.accounts[account];
        uint256 w = slot.value;
        if (w & _ACCOUNT_FROZEN == 0) revert AccountNotFrozen(account);
        slot.value = w & ~_ACCOUNT_FROZEN;
        emit Unfrozen(account, ref);
    }

    /// @inheritdoc IPilotRupee
    function freezeAmount(address account, uint256 amount, bytes32 ref) external onlyRole(FREEZER_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage slot = $.accounts[account];
        uint256 w = slot.value;
        // Checked before the addition, so an amount near 2^256 reverts here and not with a Panic.
        if (amount > _MASK96) revert AmountTooLarge(amount, _MASK96);
        uint256 total = ((w >> _FROZEN_SHIFT) & _MASK96) + amount;
        if (total > _MASK96) revert AmountTooLarge(total, _MASK96);
        slot.value = (w & ~(_MASK96 << _FROZEN_SHIFT)) | (total << _FROZEN_SHIFT);
        emit AmountFrozen(account, amount, total, ref);
    }

    /// @inheritdoc IPilotRupee
    function unfreezeAmount(address account, uint256 amount, bytes32 ref) external onlyRole(FREEZER_ROLE) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage slot = $.accounts[account];
        uint256 w = slot.value;
        uint256 frozen = (w >> _FROZEN_SHIFT) & _MASK96;
        if (amount > frozen) revert UnfreezeExceedsFrozen(account, frozen, amount);
        // amount <= frozen: the subtraction stays inside the frozen-amount field.
        unchecked {
            slot.value = w - (amount << _FROZEN_SHIFT);
            emit AmountUnfrozen(account, amount, frozen - amount, ref);
        }
    }

    /// @inheritdoc IPilotRupee
    function isFrozen(address account) external view returns (bool) {
        return _getPilotRupeeStorage().accounts[account].value & _ACCOUNT_FROZEN != 0;
    }

    /// @inheritdoc IPilotRupee
    function frozenBalanceOf(address account) external view returns (uint256) {
        return (_getPilotRupeeStorage().accounts[account].value >> _FROZEN_SHIFT) & _MASK96;
    }

    /// @inheritdoc IPilotRupee
    function availableBalanceOf(address account) external view returns (uint256) {
        uint256 w = _getPilotRupeeStorage().accounts[account].value;
        if (w & _ACCOUNT_FROZEN != 0) return 0;
        uint256 balance = w & _MASK96;
        uint256 frozen = (w >> _FROZEN_SHIFT) & _MASK96;
        unchecked {
            return balance > frozen ? balance - frozen : 0;
        }
    }

    /// @inheritdoc IPilotRupee
    function seize(address from, address to, uint256 amount, bytes32 ref) external onlyRole(SEIZER_ROLE) {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        // A self-seizure would only lift the partial freeze (debit and credit cancel out).
        if (from == to) revert SelfSeizure(from);
        if (amount == 0) revert ZeroAmount();
        _seizeUpdate(from, to, amount);
        // The frozen amount after the seizure (it drops by what was taken, floored at 0), for indexers.
        emit Seized(from, to, amount, (_getPilotRupeeStorage().accounts[from].value >> _FROZEN_SHIFT) & _MASK96, ref);
    }

    // ------------------------------------------------------------------------------------------
    // Pause
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IPilotRupee
    function pause() external onlyRole(PAUSER_ROLE) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        uint256 g = $.global;
        if (g & _GLOBAL_PAUSED != 0) revert EnforcedPause();
        $.global = g | _GLOBAL_PAUSED;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IPilotRupee
    function unpause() external onlyRole(UNPAUSER_ROLE) {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        uint256 g = $.global;
        if (g & _GLOBAL_PAUSED == 0) revert ExpectedPause();
        $.global = g & ~_GLOBAL_PAUSED;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IPilotRupee
    function paused() external view returns (bool) {
        return _getPilotRupeeStorage().global & _GLOBAL_PAUSED != 0;
    }

    // ------------------------------------------------------------------------------------------
    // Tiers, limits, allowlist mode
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IPilotRupee
    function setTier(address account, uint8 tier, bytes32 ref) external onlyRole(KYC_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage slot = $.accounts[account];
        slot.value = (slot.value & ~_TIER_MASK) | (uint256(tier) << _TIER_SHIFT);
        emit TierSet(account, tier, ref);
    }

    /// @inheritdoc IPilotRupee
    function setTierLimits(uint8 tier, uint256 maxBalance, uint256 maxDailyOutflow, bytes32 ref)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (maxBalance > _MASK128) maxBalance = _MASK128;
        if (maxDailyOutflow > _MASK128) maxDailyOutflow = _MASK128;
        _getPilotRupeeStorage().tierLimitWords[tier].value = (maxDailyOutflow << _OUTFLOW_LIMIT_SHIFT) | maxBalance;
        emit TierLimitsSet(tier, maxBalance, maxDailyOutflow, ref);
    }

    /// @inheritdoc IPilotRupee
    function setLimitsMode(bool enabled, bytes32 ref) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setGlobalFlag(_GLOBAL_LIMITS, enabled);
        emit LimitsModeSet(enabled, ref);
    }

    /// @inheritdoc IPilotRupee
    function setAllowlistMode(bool enabled, bytes32 ref) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setGlobalFlag(_GLOBAL_ALLOWLIST, enabled);
        emit AllowlistModeSet(enabled, ref);
    }

    /// @inheritdoc IPilotRupee
    function setExempt(address account, bool exempt, bytes32 ref) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        Word storage slot = $.accounts[account];
        uint256 w = slot.value;
        slot.value = exempt ? w | _ACCOUNT_EXEMPT : w & ~_ACCOUNT_EXEMPT;
        emit ExemptionSet(account, exempt, ref);
    }

    /// @inheritdoc IPilotRupee
    function tierOf(address account) external view returns (uint8) {
        return uint8(_getPilotRupeeStorage().accounts[account].value >> _TIER_SHIFT);
    }

    /// @inheritdoc IPilotRupee
    function tierLimits(uint8 tier) external view returns (uint256 maxBalance, uint256 maxDailyOutflow) {
        uint256 l = _getPilotRupeeStorage().tierLimitWords[tier].value;
        return (l & _MASK128, l >> _OUTFLOW_LIMIT_SHIFT);
    }

    /// @inheritdoc IPilotRupee
    function isExempt(address account) external view returns (bool) {
        return _getPilotRupeeStorage().accounts[account].value & _ACCOUNT_EXEMPT != 0;
    }

    /// @inheritdoc IPilotRupee
    function isAllowlisted(address account) external view returns (bool) {
        uint256 w = _getPilotRupeeStorage().accounts[account].value;
        return w & (_ACCOUNT_EXEMPT | _TIER_MASK) != 0;
    }

    /// @inheritdoc IPilotRupee
    function outflowToday(address account) external view returns (uint256) {
        uint256 o = _getPilotRupeeStorage().outflows[account].value;
        // A stored day number compared with today's, not a balance: exact equality is the intent.
        // slither-disable-next-line incorrect-equality
        return (o & _MASK64) == block.timestamp / 1 days ? o >> _OUTFLOW_AMOUNT_SHIFT : 0;
    }

    /// @inheritdoc IPilotRupee
    function limitsEnabled() external view returns (bool) {
        return _getPilotRupeeStorage().global & _GLOBAL_LIMITS != 0;
    }

    /// @inheritdoc IPilotRupee
    function allowlistEnabled() external view returns (bool) {
        return _getPilotRupeeStorage().global & _GLOBAL_ALLOWLIST != 0;
    }

    // ------------------------------------------------------------------------------------------
    // Rescue
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IPilotRupee
    function rescueERC20(address token, address to, uint256 amount) external onlyRole(RESCUER_ROLE) {
        if (to == address(0)) revert ZeroAddress();
        // PKRP held by the token contract moves only by its holder's rules, never by a rescue.
        if (token == address(this)) revert RescueOfOwnToken();
        emit TokensRescued(token, to, amount);
        SafeERC20.safeTransfer(IERC20(token), to, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Internal: the choke point
    // ------------------------------------------------------------------------------------------

    /// @dev transfer and the payments with a reference: the caller pays `to`. The zero address can never
    /// sign, but `_update(address(0), ...)` is a mint, so a zero caller is refused explicitly (ERC-6093).
    function _transferFromCaller(address to, uint256 value) private {
        if (msg.sender == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(msg.sender, to, value);
    }

    /// @dev THE choke point: every balance or supply change except {seize} comes here (transfer,
    /// transferFrom, mint, burn, EIP-3009; multicall only re-enters those). `from == 0` mints: the cap,
    /// the reserves and the attestation age are enforced here, so no mint path can skip them. `to == 0`
    /// burns. Enforces: not paused; `from` and `to` not fully frozen; only the available balance
    /// (balance - frozen amount) of `from` moves; tier limits and allowlist mode when switched on.
    /// The spender of transferFrom is not a party to the balance change, so its freeze is checked in
    /// {_spendAllowance}, the only path that spends an allowance.
    function _update(address from, address to, uint256 value) internal virtual {
        _move(from, to, value, false);
    }

    /// @dev Seize path (the one exception to {_update}): from a non-zero `from` to a non-zero `to`, with
    /// (1) no pause check, (2) no full-freeze check on `from` but only frozen funds may be taken: the whole
    /// balance of a fully frozen account, otherwise at most min(frozen amount, balance), and (3) no daily
    /// outflow counted for `from` (a court order is not the holder spending). The recipient is checked
    /// exactly as in {_update}. The frozen amount is reduced by what was taken, floored at 0.
    function _seizeUpdate(address from, address to, uint256 value) private {
        _move(from, to, value, true);
    }

    /// @dev The single implementation behind {_update} and {_seizeUpdate}. Reads the global word once and
    /// each account word once (through a storage pointer, so each mapping slot is hashed once); the
    /// limit and allowlist helpers run only when their switch, held in the same global word, is on.
    function _move(address from, address to, uint256 value, bool seizure) private {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        uint256 g = $.global;
        if (g & _GLOBAL_PAUSED != 0) {
            if (!seizure) revert EnforcedPause();
        }

        if (from == address(0)) {
            // Mint: supply side.
            uint256 newSupply = (g & _MASK96) + value; // checked: `value` is caller input
            uint256 cap = (g >> _CAP_SHIFT) & _MASK96;
            if (newSupply > cap) revert SupplyCapExceeded(cap, newSupply);
            uint256 r = $.reserves;
            uint64 asOf = uint64(r >> _ASOF_SHIFT);
            uint64 maxAge = uint64(r >> _MAXAGE_SHIFT);
            if (block.timestamp > uint256(asOf) + maxAge) revert StaleAttestation(asOf, maxAge);
            uint256 reserveAmount = r & _MASK128;
            if (newSupply > reserveAmount) revert ReservesExceeded(reserveAmount, newSupply);
            // newSupply <= cap < 2^96: it fits the supply field.
            g = (g & ~_MASK96) | newSupply;
            $.global = g;
        } else {
            Word storage fromSlot = _accountSlot(from);
            uint256 w = fromSlot.value;
            uint256 balance = w & _MASK96;
            uint256 frozen = (w >> _FROZEN_SHIFT) & _MASK96;
            if (!seizure) {
                if (w & _ACCOUNT_FROZEN != 0) revert FrozenAccount(from);
                uint256 available;
                // Guarded by the comparison: no underflow.
                unchecked {
                    available = balance > frozen ? balance - frozen : 0;
                }
                if (value > available) {
                    if (value > balance) revert ERC20InsufficientBalance(from, balance, value);
                    revert InsufficientAvailableBalance(from, available, value);
                }
                if (g & _GLOBAL_LIMITS != 0) {
                    if (w & _ACCOUNT_EXEMPT == 0) _recordOutflow($, from, w, value);
                }
                // value <= available <= balance: the subtraction stays inside the balance field.
                unchecked {
                    fromSlot.value = w - value;
                }
            } else {
                uint256 seizable = w & _ACCOUNT_FROZEN != 0 ? balance : (frozen < balance ? frozen : balance);
                if (value > seizable) revert SeizeExceedsFrozen(from, seizable, value);
                uint256 released = value < frozen ? value : frozen;
                // value <= balance and released <= frozen: each subtraction stays inside its own field.
                unchecked {
                    fromSlot.value = w - value - (released << _FROZEN_SHIFT);
                }
            }
        }

        if (to == address(0)) {
            // Burn: value <= balance of `from` <= total supply, so no underflow; only the supply field
            // (low 96 bits) changes.
            unchecked {
                $.global = g - value;
            }
        } else {
            // Re-read after the debit, so a self-transfer sees its own debit.
            Word storage toSlot = _accountSlot(to);
            uint256 w = toSlot.value;
            if (w & _ACCOUNT_FROZEN != 0) revert FrozenAccount(to);
            if (g & (_GLOBAL_LIMITS | _GLOBAL_ALLOWLIST) != 0) {
                if (w & _ACCOUNT_EXEMPT == 0) _checkReceive($, g, to, w, value);
            }
            // Sum of all balances == total supply <= supply cap < 2^96, so balance + value < 2^96:
            // no carry into the frozen-amount field.
            unchecked {
                toSlot.value = w + value;
            }
        }
        _emitTransfer(from, to, value);
    }

    /// @dev `$.accounts[account]` without the compiler's re-masking of `account` (callers pass ABI-decoded,
    /// hence clean, addresses or msg.sender). Saves about 40 gas per account on the transfer path.
    function _accountSlot(address account) private pure returns (Word storage slot) {
        assembly ("memory-safe") {
            // Solidity mapping slot: keccak256(abi.encode(key, mappingSlot)), in scratch space 0x00-0x3f.
            mstore(0x00, account) // key (an address is already zero-padded on the stack)
            mstore(0x20, _ACCOUNTS_SLOT) // the `accounts` mapping: namespace root + 4
            slot.slot := keccak256(0x00, 0x40)
        }
    }

    /// @dev `$.allowances[owner][spender]` computed like {_accountSlot} (nested mapping: two hashes).
    function _allowanceSlot(address owner, address spender) private pure returns (Word storage slot) {
        assembly ("memory-safe") {
            mstore(0x00, owner) // outer key
            mstore(0x20, _ALLOWANCES_SLOT) // the `allowances` mapping: namespace root + 5
            mstore(0x20, keccak256(0x00, 0x40)) // inner mapping's slot
            mstore(0x00, spender) // inner key
            slot.slot := keccak256(0x00, 0x40)
        }
    }

    /// @dev `emit Transfer(from, to, value)` in assembly (same log), without address re-masking and the
    /// free-memory-pointer round trip: the data word goes in scratch space.
    function _emitTransfer(address from, address to, uint256 value) private {
        assembly ("memory-safe") {
            mstore(0x00, value) // non-indexed data: value
            log3(0x00, 0x20, _TRANSFER_EVENT_SIGNATURE, from, to) // topics: signature, from, to
        }
    }

    /// @dev Allowlist and maximum-balance checks of a non-exempt recipient (only when a switch is on).
    function _checkReceive(PilotRupeeStorage storage $, uint256 g, address to, uint256 w, uint256 value)
        private
        view
    {
        uint8 tier = uint8(w >> _TIER_SHIFT);
        if (g & _GLOBAL_ALLOWLIST != 0 && tier == 0) revert NotAllowlisted(to);
        if (g & _GLOBAL_LIMITS != 0) {
            uint256 limit = $.tierLimitWords[tier].value & _MASK128;
            uint256 attempted = (w & _MASK96) + value;
            if (attempted > limit) revert TierBalanceLimitExceeded(to, limit, attempted);
        }
    }

    /// @dev Daily outflow of a non-exempt sender while limits are on. The day is the calendar day in UTC,
    /// `block.timestamp / 1 days`; the counter restarts at 0 on the first send of a new day.
    function _recordOutflow(PilotRupeeStorage storage $, address from, uint256 w, uint256 value) private {
        uint256 limit = $.tierLimitWords[uint8(w >> _TIER_SHIFT)].value >> _OUTFLOW_LIMIT_SHIFT;
        uint256 today = block.timestamp / 1 days;
        Word storage slot = $.outflows[from];
        uint256 o = slot.value;
        // A stored day number compared with today's, not a balance: exact equality is the intent.
        // slither-disable-next-line incorrect-equality
        uint256 attempted = ((o & _MASK64) == today ? o >> _OUTFLOW_AMOUNT_SHIFT : 0) + value;
        if (attempted > limit) revert TierDailyOutflowExceeded(from, limit, attempted);
        // attempted <= limit < 2^128 and today < 2^64: both fit their fields.
        slot.value = (attempted << _OUTFLOW_AMOUNT_SHIFT) | today;
    }

    /// @dev Spends `value` of `spender`'s allowance over `owner`'s tokens. Refuses a frozen spender here,
    /// not in {_update}: the spender is not a party to the balance change and this is the only path that
    /// acts on someone else's behalf through an allowance.
    function _spendAllowance(address owner, address spender, uint256 value) internal virtual {
        if (_accountSlot(spender).value & _ACCOUNT_FROZEN != 0) revert FrozenAccount(spender);
        Word storage slot = _allowanceSlot(owner, spender);
        uint256 current = slot.value;
        if (current != type(uint256).max) {
            if (current < value) revert ERC20InsufficientAllowance(spender, current, value);
            // current >= value: no underflow.
            unchecked {
                slot.value = current - value;
            }
        }
    }

    function _approve(address owner, address spender, uint256 value) internal virtual {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _getPilotRupeeStorage().allowances[owner][spender].value = value;
        emit Approval(owner, spender, value);
    }

    // ------------------------------------------------------------------------------------------
    // Internal: signatures
    // ------------------------------------------------------------------------------------------

    function _permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature)
        private
    {
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        _requireValidSignature(owner, _hashTypedDataV4(structHash), signature);
        _approve(owner, spender, value);
    }

    function _transferWithAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        if (block.timestamp <= validAfter) revert AuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert AuthorizationExpired(validBefore);
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _useAuthorization(
            from, nonce, keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)), signature
        );
        _update(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) private {
        _consumeAuthorization(
            authorizer, nonce, keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)), signature, true
        );
    }

    /// @dev Marks an EIP-3009 nonce used after checking it is fresh and the signature is `authorizer`'s.
    function _useAuthorization(address authorizer, bytes32 nonce, bytes32 structHash, bytes memory signature)
        private
    {
        _consumeAuthorization(authorizer, nonce, structHash, signature, false);
    }

    /// @dev The one nonce check of EIP-3009: fresh nonce, valid signature, then marked used (or canceled).
    function _consumeAuthorization(
        address authorizer,
        bytes32 nonce,
        bytes32 structHash,
        bytes memory signature,
        bool cancel
    ) private {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        if ($.authorizationStates[authorizer][nonce]) revert AuthorizationUsedOrCanceled(authorizer, nonce);
        _requireValidSignature(authorizer, _hashTypedDataV4(structHash), signature);
        $.authorizationStates[authorizer][nonce] = true;
        if (cancel) emit AuthorizationCanceled(authorizer, nonce);
        else emit AuthorizationUsed(authorizer, nonce);
    }

    /// @dev A (v, r, s) signature as the 65 packed bytes `r || s || v` that {_requireValidSignature} takes.
    function _packSignature(uint8 v, bytes32 r, bytes32 s) private pure returns (bytes memory) {
        return abi.encodePacked(r, s, v);
    }

    /// @dev ECDSA for EOAs, with OpenZeppelin's errors (ERC20Permit's `ERC2612InvalidSigner(recovered, owner)`,
    /// and ECDSA's own for a malformed signature); ERC-1271 for contract wallets (`InvalidSignature(signer)`
    /// when the wallet does not accept it).
    function _requireValidSignature(address signer, bytes32 digest, bytes memory signature) private view {
        if (signer.code.length == 0) {
            address recovered = ECDSA.recover(digest, signature);
            if (recovered != signer) revert ERC2612InvalidSigner(recovered, signer);
        } else if (!SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature)) {
            revert InvalidSignature(signer);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Internal: roles and upgrades
    // ------------------------------------------------------------------------------------------

    /// @dev Separation of duties: a configured minter can never receive ATTESTOR_ROLE.
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool) {
        if (role == ATTESTOR_ROLE && _getPilotRupeeStorage().minters[account].value & _MINTER_ENABLED != 0) {
            revert MinterAttestorConflict(account);
        }
        return super._grantRole(role, account);
    }

    function _setGlobalFlag(uint256 flag, bool enabled) private {
        PilotRupeeStorage storage $ = _getPilotRupeeStorage();
        uint256 g = $.global;
        $.global = enabled ? g | flag : g & ~flag;
    }

    /// @dev UUPS: only UPGRADER_ROLE may upgrade.
    function _authorizeUpgrade(address) internal virtual override onlyRole(UPGRADER_ROLE) {}
}
