// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PilotBase} from "./PilotBase.sol";

/// @title Rules over ANY single call: arbitrary calldata (every external function of PilotRupee, every
/// argument) from an arbitrary sender, starting from a symbolic state of the accounts in play.
/// The state is {_leanState}: arbitrary balances and cap, and exactly the flags the rule is about
/// (a symbolic bit for every flag of every account multiplies the paths of every function).
/// @notice `upgradeToAndCall` is left out where noted (it replaces the code the rules are about; only
/// UPGRADER_ROLE may call it, which the no-role rule covers). Each rule has a `check_twin_` that must fail.
contract AnyCallRules is PilotBase {
    function _sender() internal returns (address) {
        return svm.createAddress("sender");
    }

    // ------------------------------------------------------------------ supply

    /// Only mint and burn change the total supply (OZ: onlyMintAndBurnCanChangeTotalSupply).
    function check_onlyMintBurnChangeSupply() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        uint256 s0 = _supply();
        (bool ok, bytes4 sel) = _anyCall(_sender(), true);
        if (ok && _supply() != s0) assert(sel == MINT || sel == BURN);
    }

    /// Twin: "no call changes the supply".
    function check_twin_onlyMintBurnChangeSupply() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        uint256 s0 = _supply();
        _anyCall(_sender(), true);
        assert(_supply() == s0);
    }

    /// The zero address holds nothing, whatever is called (OZ: zeroAddressNoBalance).
    function check_zeroAddressHoldsNothing() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        _anyCall(_sender(), true);
        assert(_bal(address(0)) == 0);
    }

    /// Twin: the same claim for CAROL, an ordinary account that starts empty (false: she can be paid).
    function check_twin_zeroAddressHoldsNothing() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        _anyCall(_sender(), true);
        assert(_bal(CAROL) == 0);
    }

    /// Mint never exceeds the minter's allowance, the fresh attested reserves or the cap: whenever the
    /// supply goes up, the caller was an enabled minter whose allowance went down by the increase, the
    /// new supply is within the cap and the reserves, and the attestation was fresh.
    function check_mintBounded() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        address sender = _sender();
        uint256 s0 = _supply();
        bool minter0 = token.isMinter(sender);
        uint256 allowance0 = token.minterAllowance(sender);
        (bool ok,) = _anyCall(sender, true);
        uint256 s1 = _supply();
        if (ok && s1 > s0) {
            (uint256 reserve, uint64 asOf,,) = token.reserves();
            assert(minter0 && token.minterAllowance(sender) == allowance0 - (s1 - s0));
            assert(s1 <= token.supplyCap() && s1 <= reserve);
            assert(block.timestamp <= uint256(asOf) + token.maxAttestationAge());
        }
    }

    /// Twin: "the new supply stays strictly below the reserves" (false: a mint may reach them exactly).
    function check_twin_mintBounded() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        uint256 s0 = _supply();
        (bool ok,) = _anyCall(_sender(), true);
        (uint256 reserve,,,) = token.reserves();
        if (ok && _supply() > s0) assert(_supply() < reserve);
    }

    // ------------------------------------------------------------------ who may move or approve

    /// Only the holder or an approved spender reduces a balance (OZ: onlyHolderOfSpenderCanChangeBalance),
    /// plus the documented exceptions: a seizure by SEIZER_ROLE, and an EIP-3009 authorization (signed
    /// by the holder, submitted by anyone).
    function check_onlyHolderOrSpenderReduces() public {
        _leanState(ALICE, BOB, 0, 0);
        address sender = _sender();
        uint256 allowance0 = _symbolicAllowance(ALICE, sender);
        uint256 a0 = _bal(ALICE);
        bool seizer = token.hasRole(token.SEIZER_ROLE(), sender);
        (bool ok, bytes4 sel) = _anyCall(sender, true);
        uint256 a1 = _bal(ALICE);
        if (ok && a1 < a0) {
            assert(sender == ALICE || allowance0 >= a0 - a1 || (sel == SEIZE && seizer) || _isAuthorization(sel));
        }
    }

    /// Twin: without the seizure exception.
    function check_twin_onlyHolderOrSpenderReduces() public {
        _leanState(ALICE, BOB, 0, 0);
        address sender = _sender();
        uint256 allowance0 = _symbolicAllowance(ALICE, sender);
        uint256 a0 = _bal(ALICE);
        (bool ok, bytes4 sel) = _anyCall(sender, true);
        uint256 a1 = _bal(ALICE);
        if (ok && a1 < a0) assert(sender == ALICE || allowance0 >= a0 - a1 || _isAuthorization(sel));
    }

    /// Only the holder or a permit raises an allowance (OZ: onlyHolderCanChangeAllowance, with permit).
    function check_onlyHolderOrPermitRaisesAllowance() public {
        _leanState(ALICE, BOB, 0, 0);
        address sender = _sender();
        uint256 allowance0 = _symbolicAllowance(ALICE, BOB);
        (bool ok, bytes4 sel) = _anyCall(sender, true);
        if (ok && token.allowance(ALICE, BOB) > allowance0) assert(sender == ALICE || _isPermit(sel));
    }

    /// Twin: without the permit exception.
    function check_twin_onlyHolderOrPermitRaisesAllowance() public {
        _leanState(ALICE, BOB, 0, 0);
        address sender = _sender();
        uint256 allowance0 = _symbolicAllowance(ALICE, BOB);
        (bool ok,) = _anyCall(sender, true);
        if (ok && token.allowance(ALICE, BOB) > allowance0) assert(sender == ALICE);
    }

    // ------------------------------------------------------------------ freezes

    /// A fully frozen account's balance never decreases except by a seizure (SEIZER_ROLE), and it never
    /// receives anything.
    function check_frozenNeverMoves() public {
        _leanState(ALICE, BOB, FROZEN_FLAG, 0);
        address sender = _sender();
        bool seizer = token.hasRole(token.SEIZER_ROLE(), sender);
        uint256 a0 = _bal(ALICE);
        (bool ok, bytes4 sel) = _anyCall(sender, true);
        if (ok) {
            assert(_bal(ALICE) <= a0);
            if (_bal(ALICE) < a0) assert(sel == SEIZE && seizer);
        }
    }

    /// Twin: "a frozen balance never decreases" (false: a seizure takes it).
    function check_twin_frozenNeverMoves() public {
        _leanState(ALICE, BOB, FROZEN_FLAG, 0);
        uint256 a0 = _bal(ALICE);
        _anyCall(_sender(), true);
        assert(_bal(ALICE) >= a0);
    }

    /// A partially frozen account never goes below its frozen amount except by a seizure: the part of
    /// the balance covered by the freeze, min(balance, frozen amount), only leaves through `seize`.
    function check_partialFreezeFloor() public {
        _leanState(ALICE, BOB, 0, 0);
        address sender = _sender();
        bool seizer = token.hasRole(token.SEIZER_ROLE(), sender);
        uint256 a0 = _bal(ALICE);
        uint256 f0 = token.frozenBalanceOf(ALICE);
        uint256 floor = a0 < f0 ? a0 : f0;
        (bool ok, bytes4 sel) = _anyCall(sender, true);
        if (ok && _bal(ALICE) < floor) assert(sel == SEIZE && seizer);
    }

    /// Twin: without the seizure exception.
    function check_twin_partialFreezeFloor() public {
        _leanState(ALICE, BOB, 0, 0);
        uint256 a0 = _bal(ALICE);
        uint256 f0 = token.frozenBalanceOf(ALICE);
        (bool ok,) = _anyCall(_sender(), true);
        if (ok) assert(_bal(ALICE) >= (a0 < f0 ? a0 : f0));
    }

    // ------------------------------------------------------------------ pause

    /// While paused no balance and no supply changes, except through the compliance path (`seize`).
    function check_pauseStopsMoney() public {
        _leanState(ALICE, BOB, 0, PAUSED_FLAG);
        (uint256 a0, uint256 b0, uint256 s0) = (_bal(ALICE), _bal(BOB), _supply());
        (bool ok, bytes4 sel) = _anyCall(_sender(), true);
        if (ok && sel != SEIZE) assert(_bal(ALICE) == a0 && _bal(BOB) == b0 && _supply() == s0);
    }

    /// Twin: without the compliance exception.
    function check_twin_pauseStopsMoney() public {
        _leanState(ALICE, BOB, 0, PAUSED_FLAG);
        (uint256 a0, uint256 b0) = (_bal(ALICE), _bal(BOB));
        _anyCall(_sender(), true);
        assert(_bal(ALICE) == a0 && _bal(BOB) == b0);
    }

    // ------------------------------------------------------------------ tier limits

    /// Tier limits hold on every money path: while limits are on, a non-exempt account that receives
    /// ends within its tier's maximum balance, and one that sends (other than by seizure) ends within
    /// its tier's daily outflow.
    function check_tierLimits() public {
        uint256 maxBalance = _tierState();
        uint256 maxOutflow = _maxOutflow();
        uint256 a0 = _bal(ALICE);
        (bool ok, bytes4 sel) = _anyCall(_sender(), true);
        if (ok && _bal(ALICE) > a0) assert(_bal(ALICE) <= maxBalance);
        if (ok && _bal(ALICE) < a0 && sel != SEIZE) assert(token.outflowToday(ALICE) <= maxOutflow);
    }

    /// Twin: the same claim for an EXEMPT account (false: exemption lifts the limits).
    function check_twin_tierLimits() public {
        uint256 maxBalance = _tierState();
        _put(_accountSlot(ALICE), _word(_accountSlot(ALICE)) | EXEMPT_FLAG);
        uint256 a0 = _bal(ALICE);
        (bool ok,) = _anyCall(_sender(), true);
        if (ok && _bal(ALICE) > a0) assert(_bal(ALICE) <= maxBalance);
    }

    /// @dev Limits on; ALICE in an arbitrary tier with arbitrary limits and today's outflow within its
    /// limit; BOB exempt (so he can pay her) and fresh reserves (so a minter can).
    function _tierState() internal returns (uint256 maxBalance) {
        uint256 tier = svm.createUint(8, "tier");
        _leanState(ALICE, BOB, tier << 200, LIMITS_FLAG);
        _put(_accountSlot(BOB), _word(_accountSlot(BOB)) | EXEMPT_FLAG);
        _symbolicReserves();
        maxBalance = svm.createUint(128, "maxBalance");
        uint256 maxOutflow = svm.createUint(128, "maxOutflow");
        _put(keccak256(abi.encode(tier, TIER_LIMITS_SLOT)), (maxOutflow << 128) | maxBalance);
        uint256 spent = svm.createUint(128, "spentToday");
        vm.assume(spent <= maxOutflow);
        _put(keccak256(abi.encode(ALICE, OUTFLOWS_SLOT)), (spent << 64) | (block.timestamp / 1 days));
    }

    function _maxOutflow() internal view returns (uint256 maxOutflow) {
        (, maxOutflow) = token.tierLimits(token.tierOf(ALICE));
    }

    // ------------------------------------------------------------------ helpers

    function _isPermit(bytes4 sel) internal pure returns (bool) {
        return sel == PERMIT_VRS || sel == bytes4(keccak256("permit(address,address,uint256,uint256,bytes)"));
    }
}
