// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MintDesk} from "contracts/MintDesk.sol";
import {IPilotRupee} from "contracts/interfaces/IPilotRupee.sol";
import {PilotBase} from "./PilotBase.sol";

/// @title MintDesk: maker-checker rules, over the real token behind its proxy.
/// @notice The desk (threshold 1,000, 2 approvals above it, 1 day TTL) is the token's minter; reserves
/// and cap are ample, so a mint the desk lets through succeeds on the token. Callers, amounts, refs
/// and times are symbolic. Each rule has a `check_twin_` that must fail.
contract DeskRules is PilotBase {
    MintDesk internal desk;

    address internal constant MAKER = address(0xD001);
    address internal constant CHECKER1 = address(0xD002);
    address internal constant CHECKER2 = address(0xD003);
    uint96 internal constant THRESHOLD = 1_000;
    uint32 internal constant TTL = 1 days;

    function setUp() public override {
        super.setUp();
        desk = new MintDesk(IPilotRupee(address(token)), 0, address(this), THRESHOLD, 2, 5_000, TTL);
        desk.grantRole(desk.MAKER_ROLE(), MAKER);
        desk.grantRole(desk.CHECKER_ROLE(), CHECKER1);
        desk.grantRole(desk.CHECKER_ROLE(), CHECKER2);
        vm.prank(MINTER_ADMIN);
        token.configureMinter(address(desk), 10 ** 30, bytes32("desk"));
        token.setSupplyCap(10 ** 28, bytes32("cap"));
        vm.prank(ATTESTOR);
        token.attestReserves(10 ** 28, uint64(NOW), bytes32("report"));
    }

    /// @dev One of the desk's actors or an outsider, chosen symbolically.
    function _actor(string memory name) internal returns (address) {
        uint256 i = svm.createUint(2, name);
        return i == 0 ? CHECKER1 : i == 1 ? CHECKER2 : i == 2 ? MAKER : ALICE;
    }

    function _request(uint256 amount, bytes32 ref) internal returns (uint256 id) {
        vm.prank(MAKER);
        id = desk.requestMint(ALICE, amount, ref);
    }

    function _try(address who, bytes memory call) internal returns (bool ok) {
        vm.prank(who);
        (ok,) = address(desk).call(call);
    }

    // ------------------------------------------------------------------ approvals

    /// Nothing mints without the required number of distinct approvals: a request above the threshold
    /// mints only if two DISTINCT accounts, neither its maker and both still holding CHECKER_ROLE when
    /// it executes, approved it (a checker may lose the role in between).
    function check_deskDistinctApprovals() public {
        uint256 amount = svm.createUint(96, "amount");
        vm.assume(amount > THRESHOLD);
        uint256 id = _request(amount, bytes32("ref"));
        address c1 = _actor("approver1");
        address c2 = _actor("approver2");
        bool ok1 = _try(c1, abi.encodeCall(desk.approveMint, (id)));
        bool ok2 = _try(c2, abi.encodeCall(desk.approveMint, (id)));
        if (svm.createBool("revokeChecker1")) desk.revokeRole(desk.CHECKER_ROLE(), CHECKER1);
        uint256 s0 = _supply();
        _try(_actor("executor"), abi.encodeCall(desk.executeMint, (id)));
        if (_supply() > s0) {
            assert(ok1 && ok2 && c1 != c2 && c1 != MAKER && c2 != MAKER);
            assert(desk.hasRole(desk.CHECKER_ROLE(), c1) && desk.hasRole(desk.CHECKER_ROLE(), c2));
        }
    }

    /// Twin: "a request above the threshold never mints" (false: two checkers can approve it).
    function check_twin_deskDistinctApprovals() public {
        uint256 amount = svm.createUint(96, "amount");
        vm.assume(amount > THRESHOLD);
        uint256 id = _request(amount, bytes32("ref"));
        _try(_actor("approver1"), abi.encodeCall(desk.approveMint, (id)));
        _try(_actor("approver2"), abi.encodeCall(desk.approveMint, (id)));
        uint256 s0 = _supply();
        _try(_actor("executor"), abi.encodeCall(desk.executeMint, (id)));
        assert(_supply() == s0);
    }

    // ------------------------------------------------------------------ refs

    /// A ref never mints twice: after a ref minted (through an executed request or a direct mint),
    /// a new request or a direct mint with the same ref reverts, at any later time.
    function check_deskRefOnce() public {
        bytes32 ref = svm.createBytes32("ref");
        if (svm.createBool("firstDirect")) {
            vm.prank(MAKER);
            desk.mintDirect(ALICE, 10, ref);
        } else {
            uint256 id = _request(5_000, ref);
            vm.prank(CHECKER1);
            desk.approveMint(id);
            vm.prank(CHECKER2);
            desk.approveMint(id);
            vm.prank(CHECKER1);
            desk.executeMint(id);
        }
        vm.warp(NOW + svm.createUint(32, "later"));
        uint256 amount = svm.createUint(96, "amount");
        bool again = svm.createBool("againDirect")
            ? _try(MAKER, abi.encodeCall(desk.mintDirect, (ALICE, amount, ref)))
            : _try(MAKER, abi.encodeCall(desk.requestMint, (ALICE, amount, ref)));
        assert(!again);
    }

    /// Twin: "a ref is never used twice" after a CANCELLED request (false: cancelling frees the ref).
    function check_twin_deskRefOnce() public {
        bytes32 ref = svm.createBytes32("ref");
        uint256 id = _request(5_000, ref);
        vm.prank(MAKER);
        desk.cancelMint(id);
        uint256 amount = svm.createUint(96, "amount");
        assert(!_try(MAKER, abi.encodeCall(desk.requestMint, (ALICE, amount, ref))));
    }

    // ------------------------------------------------------------------ expiry and cancellation

    /// An expired or cancelled request never executes, even fully approved: after the maker or the
    /// admin cancels it, or once its time is past (closed or not), executeMint by anyone reverts.
    function check_deskDeadRequestNeverExecutes() public {
        uint256 id = _request(5_000, bytes32("ref"));
        vm.prank(CHECKER1);
        desk.approveMint(id);
        vm.prank(CHECKER2);
        desk.approveMint(id);
        uint256 way = svm.createUint(2, "how");
        if (way == 0) {
            vm.prank(MAKER);
            desk.cancelMint(id);
        } else if (way == 1) {
            desk.cancelMint(id); // the admin
        } else {
            uint256 t = svm.createUint(64, "time");
            vm.assume(t > NOW + TTL);
            vm.warp(t);
            if (way == 3) desk.closeExpired(id);
        }
        uint256 s0 = _supply();
        bool ok = _try(_actor("executor"), abi.encodeCall(desk.executeMint, (id)));
        assert(!ok && _supply() == s0);
    }

    /// Twin: "a request never executes after its filing time" (false: until it expires it does).
    function check_twin_deskDeadRequestNeverExecutes() public {
        uint256 id = _request(5_000, bytes32("ref"));
        vm.prank(CHECKER1);
        desk.approveMint(id);
        vm.prank(CHECKER2);
        desk.approveMint(id);
        uint256 t = svm.createUint(64, "time");
        vm.assume(t > NOW);
        vm.warp(t);
        assert(!_try(CHECKER1, abi.encodeCall(desk.executeMint, (id))));
    }
}
