// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PilotBase} from "./PilotBase.sol";

/// @title OpenZeppelin's ERC-20 spec (certora/specs/ERC20.spec) restated for PilotRupee.
/// @notice One rule per function: the exact revert condition (`ok == !(...)`, as the spec's
/// `assert lastReverted <=> (...)`) and "no other balance changes". Tier limits and allowlist mode are
/// off here; their own rule is in AnyCallRules. Each rule has a `check_twin_` that must fail.
contract Erc20Rules is PilotBase {
    /// @dev The recipient: BOB or ALICE herself (a self-transfer), chosen symbolically.
    function _to() internal returns (address) {
        return svm.createBool("toBob") ? BOB : ALICE;
    }

    function _limitsOff() internal view {
        vm.assume(!token.limitsEnabled() && !token.allowlistEnabled());
    }

    // ------------------------------------------------------------------ transfer

    /// transfer: reverts exactly when the sender is the zero address, the token is paused, either side is
    /// fully frozen or value > the sender's available balance; otherwise moves exactly `value` from the
    /// sender to `to` and changes neither the supply nor any other account's balance.
    function check_transfer() public {
        _symbolicState3(ALICE, BOB, CAROL);
        _symbolicReserves();
        _limitsOff();
        address from = svm.createBool("zeroSender") ? address(0) : ALICE;
        address to = _to();
        address other = svm.createAddress("other");
        vm.assume(other != from && other != to);
        uint256 value = svm.createUint256("value");
        (uint256 f0, uint256 t0, uint256 o0, uint256 s0) = (_bal(from), _bal(to), _bal(other), _supply());
        bool reverts = from == address(0) || token.paused() || token.isFrozen(from) || token.isFrozen(to)
            || value > token.availableBalanceOf(from);
        vm.prank(from);
        (bool ok,) = address(token).call(abi.encodeCall(token.transfer, (to, value)));
        assert(ok == !reverts);
        if (ok) {
            assert(_supply() == s0 && _bal(other) == o0);
            if (to != from) assert(_bal(from) == f0 - value && _bal(to) == t0 + value);
            else assert(_bal(from) == f0);
        }
    }

    /// Twin: the same revert condition without the pause and the recipient's freeze.
    function check_twin_transfer() public {
        _symbolicState3(ALICE, BOB, CAROL);
        _limitsOff();
        uint256 value = svm.createUint256("value");
        bool reverts = token.isFrozen(ALICE) || value > token.availableBalanceOf(ALICE);
        vm.prank(ALICE);
        (bool ok,) = address(token).call(abi.encodeCall(token.transfer, (BOB, value)));
        assert(ok == !reverts);
    }

    // ------------------------------------------------------------------ transferFrom

    /// transferFrom: reverts exactly when the spender is the zero address, the token is paused, owner,
    /// recipient or spender is fully frozen, the allowance is short or value > the owner's available
    /// balance; otherwise moves `value` from ALICE to `to`, spends the allowance (an infinite one stays)
    /// and changes no other balance and not the supply.
    function check_transferFrom() public {
        _symbolicState3(ALICE, BOB, CAROL);
        _symbolicReserves();
        _limitsOff();
        address spender = svm.createBool("zeroSpender") ? address(0) : CAROL;
        address to = _to();
        address other = svm.createAddress("other");
        vm.assume(other != ALICE && other != to);
        uint256 value = svm.createUint256("value");
        uint256 allow0 = _symbolicAllowance(ALICE, spender);
        (uint256 a0, uint256 t0, uint256 o0, uint256 s0) = (_bal(ALICE), _bal(to), _bal(other), _supply());
        bool reverts = spender == address(0) || token.paused() || token.isFrozen(ALICE) || token.isFrozen(to)
            || token.isFrozen(spender) || allow0 < value || value > token.availableBalanceOf(ALICE);
        vm.prank(spender);
        (bool ok,) = address(token).call(abi.encodeCall(token.transferFrom, (ALICE, to, value)));
        assert(ok == !reverts);
        if (ok) {
            assert(token.allowance(ALICE, spender) == (allow0 == type(uint256).max ? allow0 : allow0 - value));
            assert(_supply() == s0 && _bal(other) == o0);
            if (to != ALICE) assert(_bal(ALICE) == a0 - value && _bal(to) == t0 + value);
            else assert(_bal(ALICE) == a0);
        }
    }

    /// Twin: "the allowance always goes down by value" (false for an infinite allowance).
    function check_twin_transferFrom() public {
        _symbolicState3(ALICE, BOB, CAROL);
        _limitsOff();
        uint256 value = svm.createUint256("value");
        uint256 allow0 = _symbolicAllowance(ALICE, CAROL);
        vm.assume(value > 0);
        vm.prank(CAROL);
        (bool ok,) = address(token).call(abi.encodeCall(token.transferFrom, (ALICE, BOB, value)));
        if (ok) assert(token.allowance(ALICE, CAROL) == allow0 - value);
    }

    // ------------------------------------------------------------------ approve

    /// approve: reverts exactly when the owner (caller) or the spender is the zero address (allowed while
    /// paused and when frozen: it moves nothing); sets exactly that allowance; no balance, no supply and
    /// no other allowance changes.
    function check_approve() public {
        _symbolicState3(ALICE, BOB, CAROL);
        address owner = svm.createBool("zeroOwner") ? address(0) : ALICE;
        address spender = svm.createBool("zeroSpender") ? address(0) : BOB;
        uint256 value = svm.createUint256("value");
        (address oo, address os) = (svm.createAddress("otherOwner"), svm.createAddress("otherSpender"));
        vm.assume(oo != owner || os != spender);
        uint256 other0 = token.allowance(oo, os);
        (uint256 a0, uint256 b0, uint256 s0) = (_bal(ALICE), _bal(BOB), _supply());
        vm.prank(owner);
        (bool ok,) = address(token).call(abi.encodeCall(token.approve, (spender, value)));
        assert(ok == (owner != address(0) && spender != address(0)));
        if (ok) {
            assert(token.allowance(owner, spender) == value && token.allowance(oo, os) == other0);
            assert(_bal(ALICE) == a0 && _bal(BOB) == b0 && _supply() == s0);
        }
    }

    /// Twin: "approve reverts while paused" (false: approving moves no funds).
    function check_twin_approve() public {
        _symbolicState3(ALICE, BOB, CAROL);
        bool paused = token.paused();
        vm.prank(ALICE);
        (bool ok,) = address(token).call(abi.encodeCall(token.approve, (BOB, 1)));
        assert(ok == !paused);
    }

    // ------------------------------------------------------------------ permit

    /// permit: past the deadline it reverts with ERC2612ExpiredSignature; when it succeeds the allowance
    /// is exactly `value`, the owner's nonce went up by one, and no balance or supply changed.
    function check_permit() public {
        _symbolicState3(ALICE, BOB, CAROL);
        uint256 value = svm.createUint256("value");
        uint256 deadline = svm.createUint256("deadline");
        (address oo, address os, address on) =
            (svm.createAddress("otherOwner"), svm.createAddress("otherSpender"), svm.createAddress("otherNoncer"));
        vm.assume((oo != ALICE || os != BOB) && on != ALICE);
        (uint256 other0, uint256 otherNonce0, uint256 n0) = (token.allowance(oo, os), token.nonces(on), token.nonces(ALICE));
        (uint256 a0, uint256 b0, uint256 s0) = (_bal(ALICE), _bal(BOB), _supply());
        (bool ok, bytes memory ret) = _permit(value, deadline);
        if (block.timestamp > deadline) assert(!ok && _sel(ret) == ERC2612_EXPIRED);
        if (ok) {
            assert(token.allowance(ALICE, BOB) == value && token.nonces(ALICE) == n0 + 1);
            assert(token.allowance(oo, os) == other0 && token.nonces(on) == otherNonce0);
            assert(_bal(ALICE) == a0 && _bal(BOB) == b0 && _supply() == s0);
        }
    }

    /// @dev permit(ALICE, BOB, value, deadline) with an arbitrary signature (v, r, s), sent by CAROL.
    function _permit(uint256 value, uint256 deadline) internal returns (bool ok, bytes memory ret) {
        bytes32 r = svm.createBytes32("r");
        bytes32 s = svm.createBytes32("s");
        uint8 v = uint8(svm.createUint(8, "v"));
        vm.prank(CAROL);
        (ok, ret) = address(token).call(abi.encodeWithSelector(PERMIT_VRS, ALICE, BOB, value, deadline, v, r, s));
    }

    /// Twin: "permit never sets an allowance" (false: a valid signature does).
    function check_twin_permit() public {
        uint256 value = svm.createUint256("value");
        vm.assume(value != 0);
        (bool ok,) = _permit(value, NOW);
        assert(!ok || token.allowance(ALICE, BOB) != value);
    }

    // ------------------------------------------------------------------ mint

    /// mint by a minter: reverts exactly when the minter is short of allowance, frozen, `to` is zero or
    /// fully frozen, paused, the cap or the reserves would be exceeded or the attestation is stale;
    /// otherwise the supply and `to` go up by `amount`, the allowance down by it, nothing else moves.
    function check_mint() public {
        _symbolicState2(ALICE, BOB);
        _symbolicReserves();
        _limitsOff();
        uint256 allowance = svm.createUint(128, "minterAllowance");
        _put(keccak256(abi.encode(MINTER, MINTERS_SLOT)), MINTER_ENABLED | allowance);
        address to = svm.createBool("toZero") ? address(0) : ALICE;
        uint256 amount = svm.createUint256("amount");
        address other = svm.createAddress("other");
        vm.assume(other != ALICE);
        (uint256 a0, uint256 o0, uint256 s0) = (_bal(ALICE), _bal(other), _supply());
        (uint256 reserve, uint64 asOf,,) = token.reserves();
        bool reverts = amount > allowance || token.isFrozen(MINTER) || to == address(0) || token.isFrozen(to)
            || token.paused() || s0 + amount > token.supplyCap()
            || block.timestamp > uint256(asOf) + token.maxAttestationAge() || s0 + amount > reserve;
        vm.prank(MINTER);
        (bool ok,) = address(token).call(abi.encodeCall(token.mint, (to, amount, bytes32("ref"))));
        assert(ok == !reverts);
        if (ok) {
            assert(_supply() == s0 + amount && _bal(ALICE) == a0 + amount && _bal(other) == o0);
            assert(token.minterAllowance(MINTER) == allowance - amount);
        }
    }

    /// Twin: the revert condition without the reserves.
    function check_twin_mint() public {
        _symbolicState2(ALICE, BOB);
        _symbolicReserves();
        _limitsOff();
        uint256 amount = svm.createUint256("amount");
        uint256 s0 = _supply();
        (, uint64 asOf,,) = token.reserves();
        bool reverts = amount > token.minterAllowance(MINTER) || token.isFrozen(ALICE) || token.paused()
            || s0 + amount > token.supplyCap() || block.timestamp > uint256(asOf) + token.maxAttestationAge();
        vm.prank(MINTER);
        (bool ok,) = address(token).call(abi.encodeCall(token.mint, (ALICE, amount, bytes32("ref"))));
        assert(ok == !reverts);
    }

    // ------------------------------------------------------------------ burn

    /// burn by a burner: reverts exactly when paused, the burner is fully frozen or amount > its
    /// available balance; otherwise the supply and the burner's balance go down by `amount`, nothing else.
    function check_burn() public {
        _symbolicState2(BURNER, BOB);
        _limitsOff();
        uint256 amount = svm.createUint256("amount");
        address other = svm.createAddress("other");
        vm.assume(other != BURNER);
        (uint256 x0, uint256 o0, uint256 s0) = (_bal(BURNER), _bal(other), _supply());
        bool reverts = token.paused() || token.isFrozen(BURNER) || amount > token.availableBalanceOf(BURNER);
        vm.prank(BURNER);
        (bool ok,) = address(token).call(abi.encodeCall(token.burn, (amount, bytes32("ref"))));
        assert(ok == !reverts);
        if (ok) assert(_supply() == s0 - amount && _bal(BURNER) == x0 - amount && _bal(other) == o0);
    }

    /// Twin: "a burn never lowers the supply".
    function check_twin_burn() public {
        _symbolicState2(BURNER, BOB);
        uint256 amount = svm.createUint256("amount");
        uint256 s0 = _supply();
        vm.prank(BURNER);
        (bool ok,) = address(token).call(abi.encodeCall(token.burn, (amount, bytes32("ref"))));
        assert(!ok || _supply() == s0);
    }

    /// burn by an account that is neither a minter nor a burner always reverts (NotBurner).
    function check_burnNeedsRole() public {
        _symbolicState2(ALICE, BOB);
        uint256 amount = svm.createUint256("amount");
        vm.prank(ALICE);
        (bool ok, bytes memory ret) = address(token).call(abi.encodeCall(token.burn, (amount, bytes32("ref"))));
        assert(!ok && _sel(ret) == NOT_BURNER);
    }

    /// Twin: the same for a burner (false: it burns).
    function check_twin_burnNeedsRole() public {
        _symbolicState2(BURNER, BOB);
        uint256 amount = svm.createUint256("amount");
        vm.prank(BURNER);
        (bool ok,) = address(token).call(abi.encodeCall(token.burn, (amount, bytes32("ref"))));
        assert(!ok);
    }

    // ------------------------------------------------------------------ supply is the sum of balances

    /// Total supply is the sum of the balances (OZ: totalSupplyIsSumOfBalances), over the accounts in
    /// play: from a state where the supply is the sum of the balances of ALICE, BOB and MINTER (every
    /// other account holds nothing), each money path among them (a transfer, a transferFrom, a mint, a
    /// redemption burn, a seizure), with arbitrary amounts, keeps the supply equal to the sum.
    function check_supplyIsSumOfBalances() public {
        _moneyCallAmongThree();
        assert(_supply() == _bal(ALICE) + _bal(BOB) + _bal(MINTER));
    }

    /// Twin: the sum without the MINTER (false: it can be paid and it burns).
    function check_twin_supplyIsSumOfBalances() public {
        _moneyCallAmongThree();
        assert(_supply() == _bal(ALICE) + _bal(BOB));
    }

    function _balance(address a) internal returns (uint256 balance) {
        balance = svm.createUint(96, "balance");
        _put(_accountSlot(a), balance);
    }

    /// @dev Arbitrary balances for the three (no freeze, tier or exemption: the sum is arithmetic) and
    /// fresh reserves; then one successful call among: ALICE pays BOB; BOB, as spender, moves ALICE's
    /// tokens to MINTER; MINTER mints to BOB; MINTER burns; SEIZER seizes from ALICE to BOB.
    function _moneyCallAmongThree() internal {
        uint256 sum = _balance(ALICE) + _balance(BOB) + _balance(MINTER);
        vm.assume(sum <= MASK96);
        _put(bytes32(GLOBAL_SLOT), sum | (svm.createUint(96, "cap") << 96));
        _symbolicReserves();
        _put(_allowanceSlot(ALICE, BOB), svm.createUint256("allowance"));
        uint256 value = svm.createUint256("value");
        uint256 op = svm.createUint(3, "op");
        bool ok;
        if (op == 0) {
            vm.prank(ALICE);
            (ok,) = address(token).call(abi.encodeCall(token.transfer, (BOB, value)));
        } else if (op == 1) {
            vm.prank(BOB);
            (ok,) = address(token).call(abi.encodeCall(token.transferFrom, (ALICE, MINTER, value)));
        } else if (op == 2) {
            vm.prank(MINTER);
            (ok,) = address(token).call(abi.encodeCall(token.mint, (BOB, value, bytes32("ref"))));
        } else if (op == 3) {
            vm.prank(MINTER);
            (ok,) = address(token).call(abi.encodeCall(token.burn, (value, bytes32("ref"))));
        } else {
            vm.prank(SEIZER);
            (ok,) = address(token).call(abi.encodeCall(token.seize, (ALICE, BOB, value, bytes32("ref"))));
        }
        vm.assume(ok);
    }
}
