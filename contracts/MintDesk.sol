// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IMintDesk} from "./interfaces/IMintDesk.sol";
import {IPilotRupee} from "./interfaces/IPilotRupee.sol";

/**
 * @title MintDesk
 * @notice Maker-checker desk that holds a minter allowance on the PilotRupee token. See {IMintDesk} for
 * the flow, the policy rules and every event and error.
 *
 * Design notes (for auditors):
 * - Not upgradeable on purpose: it holds no customer funds except tokens in transit to a burn, and a new
 *   desk can replace it by moving the minter allowance on the token (`configureMinter` / `removeMinter`).
 *   So state is plain private storage, not ERC-7201.
 * - Admin is OpenZeppelin `AccessControlDefaultAdminRules` (one admin, two-step transfer with a delay),
 *   like the token; the deploy can make the governance timelock the desk admin so policy changes are
 *   visible before they apply.
 * - Roles: MAKER_ROLE files requests and makes direct small operations; CHECKER_ROLE approves. One
 *   account may hold both roles; four-eyes is enforced per request (the maker of a request can never
 *   approve it) and approvals are counted per distinct checker. An approval counts only while its
 *   checker holds CHECKER_ROLE: the approvers are stored per request and re-checked at execution.
 * - Separation of duties with the token: a holder of the token's ATTESTOR_ROLE can neither be granted
 *   MAKER_ROLE or CHECKER_ROLE here ({_grantRole}) nor act with them if it became an attestor later
 *   ({_checkRole}, {_settle}, and its approvals stop counting). One read of the token per check.
 * - Execution is explicit ({executeMint}/{executeBurn}) by any maker or checker, never automatic on the
 *   last approval, so approving cannot fail on token-side conditions and an approved request that hits a
 *   paused token or stale reserves simply stays pending until it can run or expires.
 * - Checks-effects-interactions: the only external calls are to the immutable, trusted token, made after
 *   every state change of the desk.
 * - No loop over user data: the pending list is an OpenZeppelin `EnumerableSet` (O(1) add and remove);
 *   the only loop is in the paginated view, bounded by {MAX_PAGE_SIZE}.
 */
contract MintDesk is IMintDesk, AccessControlDefaultAdminRules {
    using EnumerableSet for EnumerableSet.UintSet;

    /// @inheritdoc IMintDesk
    bytes32 public constant MAKER_ROLE = keccak256("MAKER_ROLE");
    /// @inheritdoc IMintDesk
    bytes32 public constant CHECKER_ROLE = keccak256("CHECKER_ROLE");
    /// @inheritdoc IMintDesk
    uint256 public constant DIRECT_REF_HOLDER = type(uint256).max;
    /// @inheritdoc IMintDesk
    uint256 public constant MAX_PAGE_SIZE = 100;

    /// @dev The token's ATTESTOR_ROLE (keccak256("ATTESTOR_ROLE"), as in PilotRupee).
    bytes32 private constant _ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");

    /// @dev Per-maker direct use on one calendar day, packed in one slot (64 + 96 + 96 bits).
    struct DailyUse {
        uint64 day;
        uint96 minted;
        uint96 burned;
    }

    IPilotRupee private immutable _token;

    ApprovalPolicy private _policy;
    uint256 private _requestCount;
    uint256 private _reservedForBurns;
    mapping(uint256 id => Request) private _requests;
    /// @dev Approvers of request `id` in approval order; `_requests[id].approvals` of them are recorded.
    mapping(uint256 id => mapping(uint256 index => address checker)) private _approvers;
    mapping(bytes32 ref => uint256 id) private _refHolder;
    mapping(address maker => DailyUse) private _dailyUse;
    EnumerableSet.UintSet private _pending;

    /**
     * @param token_ The PilotRupee proxy. The desk must then be configured there as a minter
     *        (`configureMinter(desk, allowance, ref)`) and exempted from tier limits and the allowlist.
     * @param initialAdminDelay Delay of a two-step admin transfer on the desk (seconds).
     * @param initialAdmin The desk admin (sets the policy, grants MAKER_ROLE and CHECKER_ROLE).
     * @param threshold Initial policy threshold, see {setApprovalPolicy}.
     * @param approvalsRequired Initial approvals required above the threshold.
     * @param dailyDirectLimit Initial direct limit per maker, direction and day.
     * @param requestTtl Initial request lifetime in seconds.
     *
     * Emits {ApprovalPolicySet} with a zero ref.
     */
    constructor(
        IPilotRupee token_,
        uint48 initialAdminDelay,
        address initialAdmin,
        uint96 threshold,
        uint8 approvalsRequired,
        uint96 dailyDirectLimit,
        uint32 requestTtl
    ) AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin) {
        if (address(token_).code.length == 0) revert InvalidToken(address(token_));
        _token = token_;
        _setApprovalPolicy(threshold, approvalsRequired, dailyDirectLimit, requestTtl, bytes32(0));
    }

    // ─────────────────────────────────────────────────────────── minting

    /// @inheritdoc IMintDesk
    function requestMint(address to, uint256 amount, bytes32 ref)
        external
        onlyRole(MAKER_ROLE)
        returns (uint256 id)
    {
        if (to == address(0)) revert InvalidRecipient(to);
        Request storage r;
        (id, r) = _file(RequestKind.Mint, amount, ref);
        r.to = to;
        emit MintRequested(id, msg.sender, to, amount, ref, r.requiredApprovals, r.expiresAt);
    }

    /// @inheritdoc IMintDesk
    function approveMint(uint256 id) external onlyRole(CHECKER_ROLE) {
        (uint8 approvals, uint8 needed) = _approve(id, RequestKind.Mint);
        emit MintApproved(id, msg.sender, approvals, needed);
    }

    /// @inheritdoc IMintDesk
    function executeMint(uint256 id) external {
        Request storage r = _settle(id, RequestKind.Mint);
        address to = r.to;
        uint256 amount = r.amount;
        bytes32 ref = r.ref;
        emit MintExecuted(id, msg.sender, to, amount, ref);
        _token.mint(to, amount, ref);
    }

    /// @inheritdoc IMintDesk
    function cancelMint(uint256 id) external {
        emit MintCancelled(id, msg.sender, _cancel(id, RequestKind.Mint));
    }

    /// @inheritdoc IMintDesk
    function mintDirect(address to, uint256 amount, bytes32 ref) external onlyRole(MAKER_ROLE) {
        if (to == address(0)) revert InvalidRecipient(to);
        (uint256 day, uint256 usedToday) = _useDirect(amount, ref, true);
        emit MintedDirect(msg.sender, to, amount, ref, day, usedToday);
        _token.mint(to, amount, ref);
    }

    // ─────────────────────────────────────────────────────────── redemption burns

    /// @inheritdoc IMintDesk
    function requestBurn(uint256 amount, bytes32 ref) external onlyRole(MAKER_ROLE) returns (uint256 id) {
        _checkUnreservedBalance(amount);
        Request storage r;
        (id, r) = _file(RequestKind.Burn, amount, ref);
        // Cannot overflow: the reserve never exceeds the token's total supply once checked above.
        _reservedForBurns += amount;
        emit BurnRequested(id, msg.sender, amount, ref, r.requiredApprovals, r.expiresAt);
    }

    /// @inheritdoc IMintDesk
    function approveBurn(uint256 id) external onlyRole(CHECKER_ROLE) {
        (uint8 approvals, uint8 needed) = _approve(id, RequestKind.Burn);
        emit BurnApproved(id, msg.sender, approvals, needed);
    }

    /// @inheritdoc IMintDesk
    function executeBurn(uint256 id) external {
        Request storage r = _settle(id, RequestKind.Burn);
        uint256 amount = r.amount;
        bytes32 ref = r.ref;
        emit BurnExecuted(id, msg.sender, amount, ref);
        _token.burn(amount, ref);
    }

    /// @inheritdoc IMintDesk
    function cancelBurn(uint256 id) external {
        emit BurnCancelled(id, msg.sender, _cancel(id, RequestKind.Burn));
    }

    /// @inheritdoc IMintDesk
    function burnDirect(uint256 amount, bytes32 ref) external onlyRole(MAKER_ROLE) {
        _checkUnreservedBalance(amount);
        (uint256 day, uint256 usedToday) = _useDirect(amount, ref, false);
        emit BurnedDirect(msg.sender, amount, ref, day, usedToday);
        _token.burn(amount, ref);
    }

    // ─────────────────────────────────────────────────────────── housekeeping and admin

    /// @inheritdoc IMintDesk
    function closeExpired(uint256 id) external {
        Request storage r = _requests[id];
        _checkPending(r, id);
        uint64 expiresAt = r.expiresAt;
        if (block.timestamp <= expiresAt) revert RequestNotExpired(id, expiresAt);
        emit ExpiredRequestClosed(id, msg.sender, expiresAt, _close(r, id, RequestStatus.Expired));
    }

    /// @inheritdoc IMintDesk
    function setApprovalPolicy(
        uint96 threshold,
        uint8 approvalsRequired,
        uint96 dailyDirectLimit,
        uint32 requestTtl,
        bytes32 ref
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setApprovalPolicy(threshold, approvalsRequired, dailyDirectLimit, requestTtl, ref);
    }

    // ─────────────────────────────────────────────────────────── views

    /// @inheritdoc IMintDesk
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IMintDesk
    function approvalPolicy() external view returns (ApprovalPolicy memory) {
        return _policy;
    }

    /// @inheritdoc IMintDesk
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IMintDesk
    function getRequest(uint256 id) external view returns (Request memory request) {
        Request storage r = _requests[id];
        if (r.kind == RequestKind.None) revert RequestNotFound(id);
        request = r;
        request.approvals = _countedApprovals(id, r.approvals, address(0));
    }

    /// @inheritdoc IMintDesk
    function approvalsNeeded(uint256 id) external view returns (uint8) {
        Request storage r = _requests[id];
        if (r.kind == RequestKind.None) revert RequestNotFound(id);
        return _approvalsNeeded(r);
    }

    /// @inheritdoc IMintDesk
    function hasApproved(uint256 id, address checker) external view returns (bool) {
        uint256 recorded = _requests[id].approvals;
        for (uint256 i; i < recorded; ++i) {
            if (_approvers[id][i] == checker) return true;
        }
        return false;
    }

    /// @inheritdoc IMintDesk
    function pendingRequestCount() external view returns (uint256) {
        return _pending.length();
    }

    /// @inheritdoc IMintDesk
    function pendingRequestIds(uint256 cursor, uint256 limit)
        external
        view
        returns (uint256[] memory ids, uint256 nextCursor)
    {
        uint256 len = _pending.length();
        if (cursor >= len) return (new uint256[](0), 0);
        if (limit > MAX_PAGE_SIZE) limit = MAX_PAGE_SIZE;
        // Cannot overflow: cursor < len <= 2**64 in practice and limit <= MAX_PAGE_SIZE.
        uint256 end = cursor + limit;
        if (end > len) end = len;
        ids = _pending.values(cursor, end);
        nextCursor = end == len ? 0 : end;
    }

    /// @inheritdoc IMintDesk
    function refHolder(bytes32 ref) external view returns (uint256) {
        return _refHolder[ref];
    }

    /// @inheritdoc IMintDesk
    function isRefAvailable(bytes32 ref) external view returns (bool) {
        return _refAvailable(_refHolder[ref]);
    }

    /// @inheritdoc IMintDesk
    function directUsedToday(address maker) external view returns (uint256 minted, uint256 burned) {
        DailyUse memory u = _dailyUse[maker];
        if (u.day != block.timestamp / 1 days) return (0, 0);
        return (u.minted, u.burned);
    }

    /// @inheritdoc IMintDesk
    function reservedForBurns() external view returns (uint256) {
        return _reservedForBurns;
    }

    // ─────────────────────────────────────────────────────────── internals

    /// @dev Validate and store a new pending request of `kind`; claims `ref` for it.
    function _file(RequestKind kind, uint256 amount, bytes32 ref) private returns (uint256 id, Request storage r) {
        _checkAmount(amount);
        _claimRef(ref);
        id = ++_requestCount;
        _refHolder[ref] = id;
        ApprovalPolicy memory p = _policy;
        r = _requests[id];
        r.maker = msg.sender;
        // Cannot overflow for 500 billion years: requestTtl is 32 bits.
        r.expiresAt = uint64(block.timestamp + p.requestTtl);
        r.requiredApprovals = _requiredFor(amount, p);
        r.kind = kind;
        r.status = RequestStatus.Pending;
        r.amount = uint96(amount);
        r.ref = ref;
        // `id` is a fresh request id, so add() always returns true.
        // slither-disable-next-line unused-return
        _pending.add(id);
    }

    /// @dev Record the caller's approval of request `id`; returns the new count of approvals that count and
    /// the approvals needed.
    function _approve(uint256 id, RequestKind kind) private returns (uint8 approvals, uint8 needed) {
        Request storage r = _requests[id];
        _checkLive(r, id, kind);
        if (msg.sender == r.maker) revert MakerCannotApprove(id, msg.sender);
        uint8 recorded = r.approvals;
        approvals = _countedApprovals(id, recorded, msg.sender);
        needed = _approvalsNeeded(r);
        if (approvals >= needed) revert ApprovalsComplete(id, approvals);
        _approvers[id][recorded] = msg.sender;
        // Checked: only a 256th recorded approval (after 255 revoked checkers) could overflow, and reverts.
        r.approvals = recorded + 1;
        // Cannot overflow: approvals < needed <= type(uint8).max.
        unchecked {
            approvals += 1;
        }
    }

    /// @dev Approvals of request `id` (`recorded` of them stored) that count now: by accounts that still hold
    /// CHECKER_ROLE and do not hold the token's ATTESTOR_ROLE. Reverts {AlreadyApproved} if `caller` is one of
    /// the recorded approvers (pass address(0), never an approver, to only count).
    function _countedApprovals(uint256 id, uint8 recorded, address caller) private view returns (uint8 counted) {
        for (uint256 i; i < recorded; ++i) {
            address checker = _approvers[id][i];
            if (checker == caller) revert AlreadyApproved(id, caller);
            // Cannot overflow: counted <= i < recorded <= type(uint8).max.
            if (hasRole(CHECKER_ROLE, checker) && !_isAttestor(checker)) {
                unchecked {
                    ++counted;
                }
            }
        }
    }

    /// @dev Whether `account` holds ATTESTOR_ROLE on the token (one external view call).
    function _isAttestor(address account) private view returns (bool) {
        return _token.hasRole(_ATTESTOR_ROLE, account);
    }

    /// @dev Separation of duties, first order: an attestor on the token is never granted MAKER_ROLE or
    /// CHECKER_ROLE.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if ((role == MAKER_ROLE || role == CHECKER_ROLE) && _isAttestor(account)) revert AttestorConflict(account);
        return super._grantRole(role, account);
    }

    /// @dev Separation of duties, second order: a maker or checker that became an attestor on the token
    /// afterwards cannot act with these roles (every `onlyRole(MAKER_ROLE | CHECKER_ROLE)` comes here).
    function _checkRole(bytes32 role, address account) internal view override {
        super._checkRole(role, account);
        if ((role == MAKER_ROLE || role == CHECKER_ROLE) && _isAttestor(account)) revert AttestorConflict(account);
    }

    /// @dev Checks for an execution of request `id`; marks it executed and takes it off the pending list.
    /// The ref stays held by the (now executed) request, so it can never be used again.
    function _settle(uint256 id, RequestKind kind) private returns (Request storage r) {
        if (!hasRole(MAKER_ROLE, msg.sender) && !hasRole(CHECKER_ROLE, msg.sender)) {
            revert NotMakerOrChecker(msg.sender);
        }
        if (_isAttestor(msg.sender)) revert AttestorConflict(msg.sender);
        r = _requests[id];
        _checkLive(r, id, kind);
        uint8 needed = _approvalsNeeded(r);
        uint8 approvals = _countedApprovals(id, r.approvals, address(0));
        if (approvals < needed) revert NotEnoughApprovals(id, approvals, needed);
        r.status = RequestStatus.Executed;
        // _checkLive passed, so the request is pending and in the set: remove() returns true.
        // slither-disable-next-line unused-return
        _pending.remove(id);
        if (kind == RequestKind.Burn) {
            // Cannot underflow: the amount was added to the reserve when the request was filed.
            unchecked {
                _reservedForBurns -= r.amount;
            }
        }
    }

    /// @dev Cancel pending request `id` of `kind` for its maker or the admin; returns its ref.
    function _cancel(uint256 id, RequestKind kind) private returns (bytes32) {
        Request storage r = _requests[id];
        _checkKind(r, id, kind);
        _checkPending(r, id);
        if (msg.sender != r.maker && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert CancelNotAllowed(id, msg.sender);
        }
        return _close(r, id, RequestStatus.Cancelled);
    }

    /// @dev End a pending request without executing it: new status, off the pending list, ref freed
    /// (unless a newer request already took it over), burn reserve released. Returns the request's ref.
    function _close(Request storage r, uint256 id, RequestStatus status) private returns (bytes32 ref) {
        r.status = status;
        // Only pending requests are closed, and every pending request is in the set.
        // slither-disable-next-line unused-return
        _pending.remove(id);
        ref = r.ref;
        if (_refHolder[ref] == id) delete _refHolder[ref];
        if (r.kind == RequestKind.Burn) {
            // Cannot underflow: the amount was added to the reserve when the request was filed.
            unchecked {
                _reservedForBurns -= r.amount;
            }
        }
    }

    /// @dev Account a direct operation of the caller against the threshold and today's limit, and
    /// consume `ref`. Returns the day number and the caller's use that day including `amount`.
    function _useDirect(uint256 amount, bytes32 ref, bool isMint) private returns (uint256 day, uint256 usedToday) {
        _checkAmount(amount);
        ApprovalPolicy memory p = _policy;
        if (amount > p.threshold) revert AboveDirectThreshold(amount, p.threshold);
        _claimRef(ref);
        _refHolder[ref] = DIRECT_REF_HOLDER;

        day = block.timestamp / 1 days;
        DailyUse memory u = _dailyUse[msg.sender];
        if (u.day != day) u = DailyUse({day: uint64(day), minted: 0, burned: 0});
        uint256 used = isMint ? u.minted : u.burned;
        // Cannot overflow: both terms are below 2**96.
        usedToday = used + amount;
        if (usedToday > p.dailyDirectLimit) {
            revert DailyDirectLimitExceeded(msg.sender, day, used, amount, p.dailyDirectLimit);
        }
        // Fits: usedToday <= dailyDirectLimit < 2**96.
        if (isMint) u.minted = uint96(usedToday);
        else u.burned = uint96(usedToday);
        _dailyUse[msg.sender] = u;
    }

    function _setApprovalPolicy(
        uint96 threshold,
        uint8 approvalsRequired,
        uint96 dailyDirectLimit,
        uint32 requestTtl,
        bytes32 ref
    ) private {
        if (approvalsRequired == 0) revert InvalidApprovalsRequired(approvalsRequired);
        if (requestTtl == 0) revert InvalidRequestTtl(requestTtl);
        _policy = ApprovalPolicy({
            threshold: threshold,
            dailyDirectLimit: dailyDirectLimit,
            requestTtl: requestTtl,
            approvalsRequired: approvalsRequired
        });
        emit ApprovalPolicySet(threshold, approvalsRequired, dailyDirectLimit, requestTtl, ref);
    }

    /// @dev Revert unless `ref` is free; the caller then records the new holder.
    function _claimRef(bytes32 ref) private view {
        if (!_refAvailable(_refHolder[ref])) revert RefAlreadyUsed(ref);
    }

    /// @dev A ref is available when nobody holds it, or its holder is a request that can no longer
    /// execute without having executed (cancelled, closed or expired while pending).
    function _refAvailable(uint256 holder) private view returns (bool) {
        if (holder == 0) return true;
        if (holder == DIRECT_REF_HOLDER) return false;
        Request storage h = _requests[holder];
        if (h.status == RequestStatus.Executed) return false;
        if (h.status == RequestStatus.Pending) return block.timestamp > h.expiresAt;
        return true;
    }

    function _checkUnreservedBalance(uint256 amount) private view {
        uint256 balance = _token.balanceOf(address(this));
        uint256 reserved = _reservedForBurns;
        uint256 available = balance > reserved ? balance - reserved : 0;
        if (amount > available) revert InsufficientDeskBalance(available, amount);
    }

    function _checkAmount(uint256 amount) private pure {
        if (amount == 0) revert ZeroAmount();
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
    }

    /// @dev Request exists, is of `kind`, pending and not expired.
    function _checkLive(Request storage r, uint256 id, RequestKind kind) private view {
        _checkKind(r, id, kind);
        _checkPending(r, id);
        if (block.timestamp > r.expiresAt) revert RequestExpired(id, r.expiresAt);
    }

    function _checkKind(Request storage r, uint256 id, RequestKind kind) private view {
        RequestKind actual = r.kind;
        if (actual == RequestKind.None) revert RequestNotFound(id);
        if (actual != kind) revert WrongRequestKind(id, actual);
    }

    function _checkPending(Request storage r, uint256 id) private view {
        RequestStatus status = r.status;
        if (status == RequestStatus.None) revert RequestNotFound(id);
        if (status != RequestStatus.Pending) revert RequestNotPending(id, status);
    }

    /// @dev Approvals request `r` needs now: the stricter of its snapshot and today's policy.
    function _approvalsNeeded(Request storage r) private view returns (uint8) {
        uint8 now_ = _requiredFor(r.amount, _policy);
        uint8 filed = r.requiredApprovals;
        return now_ > filed ? now_ : filed;
    }

    function _requiredFor(uint256 amount, ApprovalPolicy memory p) private pure returns (uint8) {
        return amount > p.threshold ? p.approvalsRequired : 1;
    }
}
