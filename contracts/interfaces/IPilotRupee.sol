// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IAccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";

/// @title IPilotRupee
/// @notice External interface of the PilotRupee (PKRP) pilot stablecoin: ERC-20 with EIP-2612 permit
/// and EIP-3009 authorizations, reserve-backed minting by configured minters, redemption burns,
/// full and partial freeze, seize, pause, wallet tiers with limits, allowlist mode and rescue.
/// @dev Every privileged change of balances, freezes, minters, reserves, limits or tiers takes a trailing
/// `bytes32 ref` (bank transfer id, case number, report hash) and emits it as an indexed topic. Pause and
/// unpause (OpenZeppelin's `Paused(account)`), role changes (`RoleGranted`/`RoleRevoked`) and
/// `rescueERC20` (`TokensRescued` plus the rescued token's own `Transfer`) carry none. Amounts are base units (paisa with the default 2 decimals).
///
/// Besides what is declared here the token exposes, from OpenZeppelin bases:
/// - `multicall(bytes[] data) returns (bytes[] results)` (MulticallUpgradeable): batches calls with
///   the caller kept as `msg.sender`; every call still passes all checks.
/// - `upgradeToAndCall(address newImplementation, bytes data)`, `proxiableUUID()`,
///   `UPGRADE_INTERFACE_VERSION()` (UUPSUpgradeable), restricted to `UPGRADER_ROLE`.
/// - `supportsInterface(bytes4)` (ERC-165).
/// These are not redeclared here because the OZ implementations are `external`/non-overridable
/// without copying them; the compiled PilotRupee ABI contains them.
interface IPilotRupee is IERC20Metadata, IERC20Permit, IERC20Errors, IERC5267, IAccessControlDefaultAdminRules {
    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    /// @notice `amount` was minted to `to` by `minter` (a `Transfer(0, to, amount)` is emitted too).
    event Minted(address indexed minter, address indexed to, uint256 amount, bytes32 indexed ref);

    /// @notice `amount` was burned from the balance of `burner` (with `Transfer(burner, 0, amount)`).
    event Burned(address indexed burner, uint256 amount, bytes32 indexed ref);

    /// @notice `amount` was seized from `from` and credited to `to` (with `Transfer(from, to, amount)`);
    /// `totalFrozen` is the frozen amount of `from` afterwards (a seizure takes frozen funds first, so it
    /// may lower it: indexers that follow `AmountFrozen`/`AmountUnfrozen` totals take it from here).
    event Seized(address indexed from, address indexed to, uint256 amount, uint256 totalFrozen, bytes32 indexed ref);

    /// @notice `account` was fully frozen: it can neither send nor receive.
    event Frozen(address indexed account, bytes32 indexed ref);

    /// @notice The full freeze of `account` was lifted (a partial freeze, if any, stays).
    event Unfrozen(address indexed account, bytes32 indexed ref);

    /// @notice `amount` more of `account`'s balance was frozen; `totalFrozen` is the new frozen amount.
    event AmountFrozen(address indexed account, uint256 amount, uint256 totalFrozen, bytes32 indexed ref);

    /// @notice `amount` of `account`'s frozen amount was released; `totalFrozen` is what stays frozen.
    event AmountUnfrozen(address indexed account, uint256 amount, uint256 totalFrozen, bytes32 indexed ref);

    /// @notice `minter` was configured (or re-configured) with a minting allowance of `allowance`.
    event MinterConfigured(address indexed minter, uint256 allowance, bytes32 indexed ref);

    /// @notice `minter` was removed; it can no longer mint or burn as a minter.
    event MinterRemoved(address indexed minter, bytes32 indexed ref);

    /// @notice The attestor recorded reserves of `amount` as of `asOf` (unix seconds), backed by `reportHash`.
    event ReservesAttested(address indexed attestor, uint256 amount, uint64 asOf, bytes32 indexed reportHash);

    /// @notice The supply cap was set to `cap`.
    event SupplyCapSet(uint256 cap, bytes32 indexed ref);

    /// @notice The maximum attestation age (seconds, measured from the attestation's `asOf`) was set.
    event MaxAttestationAgeSet(uint64 maxAge, bytes32 indexed ref);

    /// @notice Transfers, mints, burns and EIP-3009 transfers were paused by `account`.
    event Paused(address account);

    /// @notice Normal operation was resumed by `account`.
    event Unpaused(address account);

    /// @notice `account` was put in wallet `tier` (0 = unverified).
    event TierSet(address indexed account, uint8 tier, bytes32 indexed ref);

    /// @notice Limits of wallet `tier` were set. `type(uint128).max` means unlimited.
    event TierLimitsSet(uint8 indexed tier, uint256 maxBalance, uint256 maxDailyOutflow, bytes32 indexed ref);

    /// @notice Tier limit enforcement was switched on or off.
    event LimitsModeSet(bool enabled, bytes32 indexed ref);

    /// @notice Allowlist mode was switched on or off.
    event AllowlistModeSet(bool enabled, bytes32 indexed ref);

    /// @notice `account` was made exempt (or no longer exempt) from tier limits and allowlist mode.
    event ExemptionSet(address indexed account, bool exempt, bytes32 indexed ref);

    /// @notice `amount` of `token` held by this contract was sent to `to`.
    event TokensRescued(address indexed token, address indexed to, uint256 amount);

    /// @notice The EIP-3009 authorization `nonce` of `authorizer` was used.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    /// @notice The EIP-3009 authorization `nonce` of `authorizer` was canceled.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice The payment by `from` in the `Transfer` log just before this one carries reference `ref`.
    /// @dev Lean on purpose: the `Transfer(from, to, value)` emitted immediately before it, by the same
    /// call, carries the payee and the amount. Both topics are indexed, so a node filters by payer or ref.
    event PaymentReference(address indexed from, bytes32 indexed ref);

    // ------------------------------------------------------------------------------------------
    // Errors (ERC-6093 errors from IERC20Errors are used for standard ERC-20 failures)
    // ------------------------------------------------------------------------------------------

    /// @notice `account` is fully frozen and cannot send, receive, spend an allowance, mint or burn.
    error FrozenAccount(address account);

    /// @notice `account` has enough balance but only `available` (balance minus frozen amount) may move.
    error InsufficientAvailableBalance(address account, uint256 available, uint256 needed);

    /// @notice The operation needs the contract not paused.
    error EnforcedPause();

    /// @notice The operation needs the contract paused.
    error ExpectedPause();

    /// @notice Minting would take total supply to `newSupply`, above the attested `reserves`.
    error ReservesExceeded(uint256 reserves, uint256 newSupply);

    /// @notice The last attestation (as of `asOf`) is older than `maxAge` seconds.
    error StaleAttestation(uint64 asOf, uint64 maxAge);

    /// @notice Minting would take total supply to `newSupply`, above `cap`.
    error SupplyCapExceeded(uint256 cap, uint256 newSupply);

    /// @notice `minter` may mint only `allowance` more, `needed` was asked.
    error MinterAllowanceExceeded(address minter, uint256 allowance, uint256 needed);

    /// @notice `account` is not a configured minter.
    error NotMinter(address account);

    /// @notice `account` is neither a configured minter nor holds `BURNER_ROLE`.
    error NotBurner(address account);

    /// @notice Separation of duties: `account` cannot be both a minter and an attestor.
    error MinterAttestorConflict(address account);

    /// @notice Receiving would take `account`'s balance to `attempted`, above its tier's `limit`.
    error TierBalanceLimitExceeded(address account, uint256 limit, uint256 attempted);

    /// @notice Sending would take `account`'s outflow today to `attempted`, above its tier's `limit`.
    error TierDailyOutflowExceeded(address account, uint256 limit, uint256 attempted);

    /// @notice Allowlist mode is on and `account` has tier 0 and is not exempt.
    error NotAllowlisted(address account);

    /// @notice `account` is already fully frozen.
    error AccountAlreadyFrozen(address account);

    /// @notice `account` is not fully frozen.
    error AccountNotFrozen(address account);

    /// @notice Only `frozen` of `account` is frozen, `requested` was asked to be released.
    error UnfreezeExceedsFrozen(address account, uint256 frozen, uint256 requested);

    /// @notice Only `seizable` of `account` may be seized (the frozen part, or all of a fully frozen balance).
    error SeizeExceedsFrozen(address account, uint256 seizable, uint256 requested);

    /// @notice A seizure from `account` to itself (it would only lift the partial freeze).
    error SelfSeizure(address account);

    /// @notice The amount must not be zero.
    error ZeroAmount();

    /// @notice `rescueERC20` cannot move the token's own PKRP.
    error RescueOfOwnToken();

    /// @notice `amount` does not fit the packed storage field whose maximum is `max`.
    error AmountTooLarge(uint256 amount, uint256 max);

    /// @notice The zero address is not acceptable here.
    error ZeroAddress();

    /// @notice The token name is `length` bytes; the EIP-712 domain name allows at most 31.
    error NameTooLong(uint256 length);

    /// @notice An attestation's `asOf` is in the future (`asOf` > `blockTime`).
    error AttestationInFuture(uint64 asOf, uint256 blockTime);

    /// @notice An attestation's `asOf` is older than the last one (`lastAsOf`).
    error AttestationOutOfOrder(uint64 lastAsOf, uint64 asOf);

    /// @notice EIP-2612: the permit's `deadline` has passed.
    error ERC2612ExpiredSignature(uint256 deadline);

    /// @notice An EOA signature (permit or EIP-3009) recovers to `signer`, not to `owner` (OpenZeppelin
    /// ERC20Permit's error, also used for EIP-3009 authorizations).
    error ERC2612InvalidSigner(address signer, address owner);

    /// @notice The ERC-1271 wallet `signer` did not accept the signature for the digest.
    error InvalidSignature(address signer);

    /// @notice EIP-3009: the authorization is valid only after `validAfter`.
    error AuthorizationNotYetValid(uint256 validAfter);

    /// @notice EIP-3009: the authorization expired at `validBefore`.
    error AuthorizationExpired(uint256 validBefore);

    /// @notice EIP-3009: `nonce` of `authorizer` was already used or canceled.
    error AuthorizationUsedOrCanceled(address authorizer, bytes32 nonce);

    /// @notice EIP-3009 receiveWithAuthorization: `caller` is not the payee `payee`.
    error CallerNotPayee(address caller, address payee);

    /// @notice Strict mode: `from` already paid with reference `ref` through {transferWithUniqueReference}.
    error ReferenceAlreadyUsed(address from, bytes32 ref);

    // ------------------------------------------------------------------------------------------
    // Constants
    // ------------------------------------------------------------------------------------------

    /// @notice Role that configures and removes minters.
    function MINTER_ADMIN_ROLE() external view returns (bytes32);
    /// @notice Role that may pause.
    function PAUSER_ROLE() external view returns (bytes32);
    /// @notice Role that may unpause (separate from PAUSER_ROLE so only unpause can sit behind a timelock).
    function UNPAUSER_ROLE() external view returns (bytes32);
    /// @notice Role that may freeze, unfreeze, freeze and unfreeze amounts.
    function FREEZER_ROLE() external view returns (bytes32);
    /// @notice Role that may seize frozen funds.
    function SEIZER_ROLE() external view returns (bytes32);
    /// @notice Role that attests reserves; never held by a minter.
    function ATTESTOR_ROLE() external view returns (bytes32);
    /// @notice Role that may burn its own balance (besides configured minters).
    function BURNER_ROLE() external view returns (bytes32);
    /// @notice Role that may rescue other tokens sent to the contract.
    function RESCUER_ROLE() external view returns (bytes32);
    /// @notice Role that authorizes UUPS upgrades.
    function UPGRADER_ROLE() external view returns (bytes32);
    /// @notice Role that sets wallet tiers.
    function KYC_ROLE() external view returns (bytes32);

    /// @notice EIP-2612 Permit typehash.
    function PERMIT_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-3009 TransferWithAuthorization typehash.
    function TRANSFER_WITH_AUTHORIZATION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-3009 ReceiveWithAuthorization typehash.
    function RECEIVE_WITH_AUTHORIZATION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-3009 CancelAuthorization typehash.
    function CANCEL_AUTHORIZATION_TYPEHASH() external view returns (bytes32);

    /// @notice Implementation version (1 for PilotRupee; upgrades return higher numbers).
    function version() external view returns (uint256);

    // ------------------------------------------------------------------------------------------
    // Initialization
    // ------------------------------------------------------------------------------------------

    /// @notice Initializes the proxy's state (once).
    /// @dev Requirements: `name_` at most 31 bytes; `initialAdmin` not zero. Grants DEFAULT_ADMIN_ROLE to
    /// `initialAdmin` with admin-transfer delay `adminDelay`. Supply cap starts at 0 and max attestation age
    /// at 1 day: minting needs `setSupplyCap` and `attestReserves` first. Limits and allowlist start off.
    function initialize(
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_,
        address initialAdmin,
        uint48 adminDelay
    ) external;

    // ------------------------------------------------------------------------------------------
    // Payments with a reference
    // ------------------------------------------------------------------------------------------

    /// @notice Moves `value` from the caller to `to`, like `transfer`, and records the payment reference
    /// `ref` (an invoice, payroll row or bank transfer id) on chain so it can be found by `ref`.
    /// @dev Requirements: exactly those of `transfer` (caller and `to` not zero; not paused; caller and `to` not
    /// frozen; value <= the caller's available balance; tier/allowlist rules when on). The same ref may be
    /// used again (see {transferWithUniqueReference} for the strict mode). Works inside `multicall`.
    /// Emits Transfer(caller, to, value), then PaymentReference(caller, ref).
    function transferWithReference(address to, uint256 value, bytes32 ref) external returns (bool);

    /// @notice Strict mode of {transferWithReference}: the chain refuses a second payment by the caller
    /// with the same `ref`, so a client may retry freely without paying twice.
    /// @dev Requirements: those of {transferWithReference}, and (caller, `ref`) not used before by this
    /// function (ReferenceAlreadyUsed). Refs are kept per payer in a bitmap: refs that differ only in
    /// their lowest byte share one storage word, so numbering a batch's refs `prefix || 0x00..0xff`
    /// makes all but the first payment of each 256 cheaper (see contracts/README.md for the figures).
    /// Refs used by {transferWithReference} are not recorded. Works inside `multicall`.
    /// Emits Transfer(caller, to, value), then PaymentReference(caller, ref).
    function transferWithUniqueReference(address to, uint256 value, bytes32 ref) external returns (bool);

    /// @notice True when `from` already paid with `ref` through {transferWithUniqueReference}.
    function referenceUsed(address from, bytes32 ref) external view returns (bool);

    // ------------------------------------------------------------------------------------------
    // EIP-3009
    // ------------------------------------------------------------------------------------------

    /// @notice Moves `value` from `from` to `to` with `from`'s signed authorization; anyone may submit it.
    /// @dev Requirements: validAfter < now < validBefore; nonce unused; valid signature of `from` (ECDSA:
    /// ERC2612InvalidSigner / OpenZeppelin's ECDSA errors; ERC-1271: InvalidSignature); and every transfer rule (not paused, neither party frozen, available balance,
    /// tiers/limits). Emits AuthorizationUsed and Transfer.
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
    ) external;

    /// @notice Same as the (v, r, s) form with a packed or ERC-1271 `signature`.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice Like transferWithAuthorization but only the payee `to` may submit it (front-running safe).
    /// @dev Requirements: msg.sender == to (else CallerNotPayee), plus all transferWithAuthorization
    /// requirements. Emits AuthorizationUsed and Transfer.
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
    ) external;

    /// @notice Same as the (v, r, s) form with a packed or ERC-1271 `signature`.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice Cancels an unused authorization `nonce` of `authorizer` with its signature.
    /// @dev Requirements: nonce unused; valid signature. Works while paused (moves no funds).
    /// Emits AuthorizationCanceled.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Same as the (v, r, s) form with a packed or ERC-1271 `signature`.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;

    /// @notice True when `nonce` of `authorizer` was used or canceled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);

    /// @notice EIP-2612 permit with a packed or ERC-1271 `signature` (the (v, r, s) form is in IERC20Permit).
    /// @dev Requirements: now <= deadline (ERC2612ExpiredSignature); valid signature of `owner` over the
    /// current nonce (ECDSA: ERC2612InvalidSigner / OpenZeppelin's ECDSA errors; ERC-1271: InvalidSignature).
    /// Works while paused and for frozen accounts (moves no funds; spending re-checks). Emits Approval.
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external;

    // ------------------------------------------------------------------------------------------
    // Minting, burning and reserves
    // ------------------------------------------------------------------------------------------

    /// @notice Configures `minter` with a minting `allowance` (replaces any previous allowance).
    /// @dev Requirements: caller has MINTER_ADMIN_ROLE; `minter` not zero and not holding ATTESTOR_ROLE
    /// (MinterAttestorConflict); allowance < 2^128. Emits MinterConfigured.
    function configureMinter(address minter, uint256 allowance, bytes32 ref) external;

    /// @notice Removes `minter`.
    /// @dev Requirements: caller has MINTER_ADMIN_ROLE; `minter` is configured (NotMinter). Emits MinterRemoved.
    function removeMinter(address minter, bytes32 ref) external;

    /// @notice Remaining minting allowance of `minter` (0 when not a minter).
    function minterAllowance(address minter) external view returns (uint256);

    /// @notice True when `account` is a configured minter.
    function isMinter(address account) external view returns (bool);

    /// @notice Mints `amount` to `to`, spending the caller's minter allowance.
    /// @dev Requirements: caller is a configured minter with allowance >= amount; not paused; caller and
    /// `to` not frozen; `to` not zero; totalSupply + amount <= supplyCap; <= attested reserves;
    /// block.timestamp <= reserves asOf + maxAttestationAge; `to` passes tier/allowlist rules when on.
    /// Emits Transfer(0, to, amount) and Minted.
    function mint(address to, uint256 amount, bytes32 ref) external;

    /// @notice Burns `amount` from the caller's own available balance (redemption).
    /// @dev Requirements: caller not zero; caller is a configured minter or holds BURNER_ROLE (NotBurner); not paused;
    /// caller not frozen; amount <= available balance. Emits Transfer(caller, 0, amount) and Burned.
    function burn(uint256 amount, bytes32 ref) external;

    /// @notice Records a reserve attestation: `amount` base units held as of `asOf`, with `reportHash`.
    /// @dev Requirements: caller has ATTESTOR_ROLE; asOf <= now; asOf >= the last asOf; amount < 2^128.
    /// An amount below current supply is accepted and blocks minting. Emits ReservesAttested.
    function attestReserves(uint256 amount, uint64 asOf, bytes32 reportHash) external;

    /// @notice The last attestation: amount, its asOf, its report hash and the block time it was recorded.
    function reserves() external view returns (uint256 amount, uint64 asOf, bytes32 reportHash, uint64 attestedAt);

    /// @notice Maximum age, in seconds measured from the attestation's `asOf`, that still allows minting.
    function maxAttestationAge() external view returns (uint64);

    /// @notice Sets the maximum attestation age.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits MaxAttestationAgeSet.
    function setMaxAttestationAge(uint64 maxAge, bytes32 ref) external;

    /// @notice The maximum total supply.
    function supplyCap() external view returns (uint256);

    /// @notice Sets the supply cap (may be below current supply: that blocks minting).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; cap < 2^96. Emits SupplyCapSet.
    function setSupplyCap(uint256 cap, bytes32 ref) external;

    // ------------------------------------------------------------------------------------------
    // Freeze and seize
    // ------------------------------------------------------------------------------------------

    /// @notice Fully freezes `account`: no sending, receiving, spending allowances, minting or burning.
    /// @dev Requirements: caller has FREEZER_ROLE; not already frozen (AccountAlreadyFrozen). Works while
    /// paused. Emits Frozen.
    function freeze(address account, bytes32 ref) external;

    /// @notice Lifts the full freeze of `account` (its partial freeze, if any, stays).
    /// @dev Requirements: caller has FREEZER_ROLE; account frozen (AccountNotFrozen). Emits Unfrozen.
    function unfreeze(address account, bytes32 ref) external;

    /// @notice Freezes `amount` more of `account`'s balance; may exceed the balance (pre-emptive).
    /// @dev Requirements: caller has FREEZER_ROLE; `account` not zero; `amount` and the new total frozen
    /// < 2^96 (AmountTooLarge). Emits AmountFrozen.
    function freezeAmount(address account, uint256 amount, bytes32 ref) external;

    /// @notice Releases `amount` of `account`'s frozen amount.
    /// @dev Requirements: caller has FREEZER_ROLE; amount <= frozen amount (UnfreezeExceedsFrozen).
    /// Emits AmountUnfrozen.
    function unfreezeAmount(address account, uint256 amount, bytes32 ref) external;

    /// @notice True when `account` is fully frozen.
    function isFrozen(address account) external view returns (bool);

    /// @notice The partially frozen amount of `account` (may exceed its balance).
    function frozenBalanceOf(address account) external view returns (uint256);

    /// @notice What `account` may move now: 0 if fully frozen, else balance minus frozen amount (floored at 0).
    function availableBalanceOf(address account) external view returns (uint256);

    /// @notice Moves `amount` of frozen funds from `from` to `to` (court order).
    /// @dev Requirements: caller has SEIZER_ROLE; `from` and `to` not zero and different (SelfSeizure);
    /// `amount` > 0 (ZeroAmount); `from` fully frozen (up to its balance) or `amount` <= min(frozen amount,
    /// balance) (SeizeExceedsFrozen); `to` not frozen, and passes allowlist and balance limit when on. Works
    /// while paused. The seized amount is taken out of the frozen amount first.
    /// Emits Transfer(from, to, amount) and Seized (with the frozen amount left).
    function seize(address from, address to, uint256 amount, bytes32 ref) external;

    // ------------------------------------------------------------------------------------------
    // Pause
    // ------------------------------------------------------------------------------------------

    /// @notice Pauses transfers, transferFrom, mint, burn and EIP-3009 transfers.
    /// @dev Requirements: caller has PAUSER_ROLE; not paused (EnforcedPause). Emits Paused.
    function pause() external;

    /// @notice Resumes normal operation.
    /// @dev Requirements: caller has UNPAUSER_ROLE; paused (ExpectedPause). Emits Unpaused.
    function unpause() external;

    /// @notice True while paused.
    function paused() external view returns (bool);

    // ------------------------------------------------------------------------------------------
    // Wallet tiers, limits and allowlist mode
    // ------------------------------------------------------------------------------------------

    /// @notice Puts `account` in wallet `tier` (0 = unverified).
    /// @dev Requirements: caller has KYC_ROLE; `account` not zero. Emits TierSet.
    function setTier(address account, uint8 tier, bytes32 ref) external;

    /// @notice Sets the maximum balance and maximum outflow per calendar day (UTC, block.timestamp / 1 days)
    /// of `tier`. Values >= 2^128 - 1 are stored as `type(uint128).max`, meaning unlimited.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits TierLimitsSet.
    function setTierLimits(uint8 tier, uint256 maxBalance, uint256 maxDailyOutflow, bytes32 ref) external;

    /// @notice Switches tier limit enforcement on or off.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits LimitsModeSet.
    function setLimitsMode(bool enabled, bytes32 ref) external;

    /// @notice Switches allowlist mode on or off (on: only tier > 0 or exempt accounts may receive).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE. Emits AllowlistModeSet.
    function setAllowlistMode(bool enabled, bytes32 ref) external;

    /// @notice Exempts `account` (minters, desks, redemption address) from tier limits and allowlist mode.
    /// Freeze and pause still apply to exempt accounts.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `account` not zero. Emits ExemptionSet.
    function setExempt(address account, bool exempt, bytes32 ref) external;

    /// @notice The wallet tier of `account`.
    function tierOf(address account) external view returns (uint8);

    /// @notice The limits of `tier`: maximum balance and maximum daily outflow (`type(uint128).max` = unlimited).
    function tierLimits(uint8 tier) external view returns (uint256 maxBalance, uint256 maxDailyOutflow);

    /// @notice True when `account` is exempt from tier limits and allowlist mode.
    function isExempt(address account) external view returns (bool);

    /// @notice True when `account` may receive in allowlist mode (tier > 0 or exempt).
    function isAllowlisted(address account) external view returns (bool);

    /// @notice Amount `account` has sent today (calendar day, block.timestamp / 1 days), counted only while
    /// limits are on.
    function outflowToday(address account) external view returns (uint256);

    /// @notice True when tier limits are enforced.
    function limitsEnabled() external view returns (bool);

    /// @notice True when allowlist mode is on.
    function allowlistEnabled() external view returns (bool);

    // ------------------------------------------------------------------------------------------
    // Rescue
    // ------------------------------------------------------------------------------------------

    /// @notice Sends `amount` of another `token` held by this contract to `to`.
    /// @dev Requirements: caller has RESCUER_ROLE; `to` not zero; `token` is not this token
    /// (RescueOfOwnToken). Uses SafeERC20. Emits TokensRescued (no ref: the token transfer is its record).
    function rescueERC20(address token, address to, uint256 amount) external;
}
