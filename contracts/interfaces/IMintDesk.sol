// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IMintDesk
 * @notice Maker-checker ("four-eyes") desk in front of the PilotRupee token. The desk is a configured
 * minter on the token and turns every change of supply into a request that a maker files and one or
 * more checkers, who are not that maker, approve before it can be executed.
 *
 * Flow for minting (redemption burns mirror it, see below):
 *
 *   requestMint (MAKER_ROLE) ─▶ approveMint × N (CHECKER_ROLE, never the maker) ─▶ executeMint
 *        │                                                                          (MAKER_ROLE or CHECKER_ROLE)
 *        └─▶ cancelMint (the maker or the desk admin) / closeExpired (anyone, once expired)
 *
 * - Approvals required: `1` for an amount at or below `threshold`, `approvalsRequired` above it. A
 *   pending request needs the larger of what the policy required when it was filed and what the policy
 *   requires now, so tightening the policy also binds requests already in flight; loosening it does not.
 * - Execution is a separate, explicit step (no auto-execution on the last approval): an approval never
 *   fails because the token is paused or short of reserves, and an approved request can be retried.
 * - Small operations: a maker may mint (or burn) an amount at or below `threshold` directly, without a
 *   checker, up to `dailyDirectLimit` per maker, per direction, per calendar day (UTC day number
 *   `block.timestamp / 1 days`).
 * - Requests expire `requestTtl` seconds after they are filed: they can be approved and executed while
 *   `block.timestamp <= expiresAt`, and not after.
 * - References: mints and burns share one reference space. A `ref` (bank transfer id, redemption payout
 *   id) that has been executed, directly or through a request, can never be used again; a ref held by a
 *   live pending request cannot be used by another one; the ref of a cancelled or expired request is
 *   free again (nothing was minted or burned under it).
 * - Redemption burns: holders send tokens to the desk with a plain transfer; a maker then files
 *   `requestBurn(amount, ref)`. The desk reserves the amount against its balance so that pending burns
 *   can never promise more tokens than the desk holds.
 * - Separation of duties: an account holding ATTESTOR_ROLE on the token is neither maker nor checker
 *   here, whichever role came first: granting it MAKER_ROLE or CHECKER_ROLE reverts {AttestorConflict},
 *   and if it became an attestor later, its maker and checker actions revert {AttestorConflict} and its
 *   approvals stop counting.
 * - An approval counts while its checker holds CHECKER_ROLE (and is not an attestor): approvals of a
 *   checker whose role was revoked no longer count when the request executes.
 */
interface IMintDesk {
    // ─────────────────────────────────────────────────────────── types

    /// @notice What a request does when executed.
    enum RequestKind {
        None, // 0: no request with this id
        Mint,
        Burn
    }

    /// @notice Stored life-cycle state of a request. A `Pending` request whose `expiresAt` has passed
    /// is expired in effect even before {closeExpired} records it as `Expired`.
    enum RequestStatus {
        None, // 0: no request with this id
        Pending,
        Executed,
        Cancelled,
        Expired
    }

    /// @notice A request as stored (three storage slots).
    struct Request {
        address maker; // who filed it
        uint64 expiresAt; // last second (inclusive) at which it can be approved or executed
        uint8 approvals; // stored: approvals recorded; {getRequest}: those that count now (see {approveMint})
        uint8 requiredApprovals; // approvals the policy required when it was filed
        RequestKind kind;
        RequestStatus status;
        address to; // recipient of a mint; zero for a burn
        uint96 amount; // token base units
        bytes32 ref; // off-chain reference (bank transfer id, payout id)
    }

    /// @notice The desk's policy (one storage slot).
    struct ApprovalPolicy {
        uint96 threshold; // amounts <= threshold are "small": 1 approval, or direct by a maker
        uint96 dailyDirectLimit; // per maker, per direction, per calendar day; 0 disables direct ops
        uint32 requestTtl; // seconds a request stays approvable and executable
        uint8 approvalsRequired; // distinct checker approvals for an amount above threshold
    }

    // ─────────────────────────────────────────────────────────── events

    /// @notice A maker filed a mint request.
    event MintRequested(
        uint256 indexed id,
        address indexed maker,
        address to,
        uint256 amount,
        bytes32 indexed ref,
        uint8 requiredApprovals,
        uint64 expiresAt
    );
    /// @notice A checker approved a mint request; `approvals` is the new count of approvals that count.
    event MintApproved(uint256 indexed id, address indexed checker, uint8 approvals, uint8 requiredApprovals);
    /// @notice A mint request was executed: `amount` was minted to `to` under `ref`.
    event MintExecuted(uint256 indexed id, address indexed executor, address to, uint256 amount, bytes32 indexed ref);
    /// @notice A pending mint request was cancelled by its maker or the admin; `ref` is free again.
    event MintCancelled(uint256 indexed id, address indexed canceller, bytes32 indexed ref);
    /// @notice A maker minted a small amount without a checker; `usedToday` includes this amount.
    event MintedDirect(
        address indexed maker, address indexed to, uint256 amount, bytes32 indexed ref, uint256 day, uint256 usedToday
    );

    /// @notice A maker filed a redemption burn request against the desk's balance.
    event BurnRequested(
        uint256 indexed id, address indexed maker, uint256 amount, bytes32 indexed ref, uint8 requiredApprovals, uint64 expiresAt
    );
    /// @notice A checker approved a burn request; `approvals` is the new count of approvals that count.
    event BurnApproved(uint256 indexed id, address indexed checker, uint8 approvals, uint8 requiredApprovals);
    /// @notice A burn request was executed: `amount` of the desk's tokens were burned under `ref`.
    event BurnExecuted(uint256 indexed id, address indexed executor, uint256 amount, bytes32 indexed ref);
    /// @notice A pending burn request was cancelled by its maker or the admin; `ref` is free again.
    event BurnCancelled(uint256 indexed id, address indexed canceller, bytes32 indexed ref);
    /// @notice A maker burned a small amount of the desk's tokens without a checker.
    event BurnedDirect(address indexed maker, uint256 amount, bytes32 indexed ref, uint256 day, uint256 usedToday);

    /// @notice An expired request was closed (removed from the pending list, its `ref` freed).
    event ExpiredRequestClosed(uint256 indexed id, address indexed closer, uint64 expiresAt, bytes32 indexed ref);
    /// @notice The admin set the approval policy.
    event ApprovalPolicySet(
        uint96 threshold, uint8 approvalsRequired, uint96 dailyDirectLimit, uint32 requestTtl, bytes32 indexed ref
    );

    // ─────────────────────────────────────────────────────────── errors

    /// @notice `ref` was already executed, or is held by another live pending request.
    error RefAlreadyUsed(bytes32 ref);
    /// @notice The amount is zero.
    error ZeroAmount();
    /// @notice The amount does not fit the desk's 96-bit amount field.
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice A mint to the zero address.
    error InvalidRecipient(address to);
    /// @notice No request has this id.
    error RequestNotFound(uint256 id);
    /// @notice The request exists but is of the other kind (a burn id passed to a mint function, or back).
    error WrongRequestKind(uint256 id, RequestKind kind);
    /// @notice The request is no longer pending (executed, cancelled or closed as expired).
    error RequestNotPending(uint256 id, RequestStatus status);
    /// @notice The request expired at `expiresAt` (block.timestamp > expiresAt).
    error RequestExpired(uint256 id, uint64 expiresAt);
    /// @notice {closeExpired} on a request that has not expired yet.
    error RequestNotExpired(uint256 id, uint64 expiresAt);
    /// @notice The maker of a request tried to approve it.
    error MakerCannotApprove(uint256 id, address maker);
    /// @notice This checker already approved this request.
    error AlreadyApproved(uint256 id, address checker);
    /// @notice The request already has every approval it needs.
    error ApprovalsComplete(uint256 id, uint8 approvals);
    /// @notice Execution of a request that lacks approvals.
    error NotEnoughApprovals(uint256 id, uint8 approvals, uint8 required);
    /// @notice Execution by an account that holds neither MAKER_ROLE nor CHECKER_ROLE.
    error NotMakerOrChecker(address account);
    /// @notice Cancellation by an account that is neither the request's maker nor the admin.
    error CancelNotAllowed(uint256 id, address account);
    /// @notice A direct operation above the policy threshold.
    error AboveDirectThreshold(uint256 amount, uint256 threshold);
    /// @notice A direct operation would take the maker's use for `day` above the daily limit.
    error DailyDirectLimitExceeded(address maker, uint256 day, uint256 usedToday, uint256 amount, uint256 limit);
    /// @notice A burn asks for more than the desk's balance not already reserved by pending burns.
    error InsufficientDeskBalance(uint256 available, uint256 needed);
    /// @notice `approvalsRequired` must be at least 1.
    error InvalidApprovalsRequired(uint8 approvalsRequired);
    /// @notice `requestTtl` must be at least 1 second.
    error InvalidRequestTtl(uint32 requestTtl);
    /// @notice The token address given to the constructor is not a contract.
    error InvalidToken(address token);
    /// @notice Separation of duties: `account` holds ATTESTOR_ROLE on the token, so it can be neither a maker
    /// nor a checker here (it could otherwise raise the reserves and mint against them).
    error AttestorConflict(address account);

    // ─────────────────────────────────────────────────────────── minting

    /**
     * @notice File a request to mint `amount` to `to` under the off-chain reference `ref`.
     * @return id The new request's id (ids start at 1 and are shared with burn requests).
     *
     * Requirements:
     * - the caller holds MAKER_ROLE and is not an attestor on the token;
     * - `to` is not the zero address, `amount` is not zero and fits in 96 bits;
     * - `ref` was never executed by the desk and is not held by another live pending request.
     *
     * Emits {MintRequested}.
     */
    function requestMint(address to, uint256 amount, bytes32 ref) external returns (uint256 id);

    /**
     * @notice Approve mint request `id`.
     *
     * Requirements:
     * - the caller holds CHECKER_ROLE, is not an attestor on the token and is not the request's maker;
     * - the request is a pending mint request that has not expired;
     * - the caller has not approved it already and it still needs approvals (counting only the approvals
     *   of accounts that still hold CHECKER_ROLE and are not attestors).
     *
     * Emits {MintApproved}.
     */
    function approveMint(uint256 id) external;

    /**
     * @notice Execute mint request `id`: the desk mints `amount` to `to` on the token, passing `ref`.
     *
     * Requirements:
     * - the caller holds MAKER_ROLE or CHECKER_ROLE and is not an attestor on the token;
     * - the request is a pending mint request that has not expired;
     * - it has at least the approvals required (see the contract notes), counting only approvals by
     *   accounts that hold CHECKER_ROLE now and are not attestors ({NotEnoughApprovals} otherwise);
     * - the token accepts the mint (desk's minter allowance, pause, freeze, cap and reserves); if it
     *   does not, the whole call reverts with the token's error and the request stays pending.
     *
     * Emits {MintExecuted} (and the token's own mint events).
     */
    function executeMint(uint256 id) external;

    /**
     * @notice Cancel pending mint request `id` (expired or not) and free its ref.
     *
     * Requirements:
     * - the caller is the request's maker or holds DEFAULT_ADMIN_ROLE on the desk;
     * - the request is a pending mint request.
     *
     * Emits {MintCancelled}.
     */
    function cancelMint(uint256 id) external;

    /**
     * @notice Mint a small amount at once, without a checker.
     *
     * Requirements:
     * - the caller holds MAKER_ROLE and is not an attestor on the token;
     * - `to` is not the zero address, `amount` is not zero and at most `threshold`;
     * - the caller's direct mints today plus `amount` stay within `dailyDirectLimit`;
     * - `ref` is free (as for {requestMint}); it is consumed;
     * - the token accepts the mint.
     *
     * Emits {MintedDirect}.
     */
    function mintDirect(address to, uint256 amount, bytes32 ref) external;

    // ─────────────────────────────────────────────────────────── redemption burns

    /**
     * @notice File a request to burn `amount` of the tokens the desk holds, under `ref`.
     * @return id The new request's id.
     *
     * Requirements:
     * - the caller holds MAKER_ROLE and is not an attestor on the token;
     * - `amount` is not zero, fits in 96 bits and is at most the desk's balance minus the amounts
     *   reserved by other pending burn requests; it is reserved until executed, cancelled or closed;
     * - `ref` is free (shared reference space with mints).
     *
     * Emits {BurnRequested}.
     */
    function requestBurn(uint256 amount, bytes32 ref) external returns (uint256 id);

    /**
     * @notice Approve burn request `id`. Same rules as {approveMint}.
     *
     * Requirements: as {approveMint}, for a burn request.
     *
     * Emits {BurnApproved}.
     */
    function approveBurn(uint256 id) external;

    /**
     * @notice Execute burn request `id`: the desk burns `amount` of its own tokens, passing `ref`.
     *
     * Requirements: as {executeMint}, for a burn request; the token must accept the burn.
     *
     * Emits {BurnExecuted} (and the token's own burn events).
     */
    function executeBurn(uint256 id) external;

    /**
     * @notice Cancel pending burn request `id`, free its ref and release its reserved amount.
     *
     * Requirements: as {cancelMint}, for a burn request.
     *
     * Emits {BurnCancelled}.
     */
    function cancelBurn(uint256 id) external;

    /**
     * @notice Burn a small amount of the desk's tokens at once, without a checker.
     *
     * Requirements:
     * - the caller holds MAKER_ROLE and is not an attestor on the token;
     * - `amount` is not zero, at most `threshold` and at most the desk's unreserved balance;
     * - the caller's direct burns today plus `amount` stay within `dailyDirectLimit`;
     * - `ref` is free; it is consumed;
     * - the token accepts the burn.
     *
     * Emits {BurnedDirect}.
     */
    function burnDirect(uint256 amount, bytes32 ref) external;

    // ─────────────────────────────────────────────────────────── housekeeping and admin

    /**
     * @notice Close a pending request (mint or burn) whose expiry has passed: remove it from the pending
     * list, free its ref and release a burn's reserved amount. Anyone may call it.
     *
     * Requirements:
     * - the request is pending and `block.timestamp > expiresAt`.
     *
     * Emits {ExpiredRequestClosed}.
     */
    function closeExpired(uint256 id) external;

    /**
     * @notice Set the approval policy. Applies to requests filed from now on, and to pending requests
     * where it is stricter (see the contract notes).
     * @param threshold Amounts at or below it need one approval and may be minted/burned directly.
     * @param approvalsRequired Distinct checker approvals for amounts above `threshold` (at least 1).
     * @param dailyDirectLimit Per maker, per direction, per calendar day; 0 disables direct operations.
     * @param requestTtl Seconds a new request stays approvable and executable (at least 1).
     * @param ref Off-chain reference for the change (e.g. the board decision).
     *
     * Requirements:
     * - the caller holds DEFAULT_ADMIN_ROLE;
     * - `approvalsRequired >= 1` and `requestTtl >= 1`.
     *
     * Emits {ApprovalPolicySet}.
     */
    function setApprovalPolicy(
        uint96 threshold,
        uint8 approvalsRequired,
        uint96 dailyDirectLimit,
        uint32 requestTtl,
        bytes32 ref
    ) external;

    // ─────────────────────────────────────────────────────────── views

    /// @notice Role that files requests and makes direct operations: keccak256("MAKER_ROLE").
    function MAKER_ROLE() external view returns (bytes32);

    /// @notice Role that approves requests: keccak256("CHECKER_ROLE").
    function CHECKER_ROLE() external view returns (bytes32);

    /// @notice {refHolder} value for a ref consumed by {mintDirect} or {burnDirect}: type(uint256).max.
    function DIRECT_REF_HOLDER() external view returns (uint256);

    /// @notice Largest page {pendingRequestIds} returns: 100.
    function MAX_PAGE_SIZE() external view returns (uint256);

    /// @notice The token the desk mints and burns.
    function token() external view returns (address);

    /// @notice The current approval policy.
    function approvalPolicy() external view returns (ApprovalPolicy memory);

    /// @notice Number of requests ever filed (the highest id; ids start at 1).
    function requestCount() external view returns (uint256);

    /// @notice Request `id` as stored, except `approvals`: the approvals that count now (by accounts that still
    /// hold CHECKER_ROLE and are not attestors). Reverts with {RequestNotFound} for an unknown id.
    function getRequest(uint256 id) external view returns (Request memory);

    /// @notice Approvals request `id` needs now: max(required when filed, required by today's policy).
    function approvalsNeeded(uint256 id) external view returns (uint8);

    /// @notice Whether `checker` approved request `id` (recorded, whether or not it still counts).
    function hasApproved(uint256 id, address checker) external view returns (bool);

    /// @notice Number of requests in the pending list (including expired ones not yet closed).
    function pendingRequestCount() external view returns (uint256);

    /**
     * @notice A page of pending request ids (mints and burns, including expired ones not yet closed).
     * @param cursor Index to start at; 0 for the first page.
     * @param limit Maximum ids to return; capped at {MAX_PAGE_SIZE}.
     * @return ids The page, in list order (which is not id order: removal swaps the last id in).
     * @return nextCursor The cursor for the next page, or 0 when this page reached the end.
     * For a consistent listing, read every page at the same block number.
     */
    function pendingRequestIds(uint256 cursor, uint256 limit)
        external
        view
        returns (uint256[] memory ids, uint256 nextCursor);

    /// @notice Request id holding `ref`: 0 if free, `DIRECT_REF_HOLDER` if consumed by a direct operation.
    /// A ref held by a cancelled or closed request reads 0; one held by an expired, unclosed request does not.
    function refHolder(bytes32 ref) external view returns (uint256);

    /// @notice Whether `ref` can be used by a new request or direct operation now.
    function isRefAvailable(bytes32 ref) external view returns (bool);

    /// @notice Direct use of `maker` today (calendar day `block.timestamp / 1 days`): minted and burned.
    function directUsedToday(address maker) external view returns (uint256 minted, uint256 burned);

    /// @notice Sum of the amounts of pending burn requests (reserved against the desk's balance).
    function reservedForBurns() external view returns (uint256);
}
