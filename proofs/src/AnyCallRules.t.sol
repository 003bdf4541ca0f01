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

    // ------------------------------------------------------------------ the money rules, one exploration

    /// @dev What {check_anyCallMoneyRules} and its twins read before the call.
    struct Before {
        address sender;
        uint256 supply;
        uint256 alice;
        uint256 bob;
        uint256 aliceFrozen; // ALICE's frozen amount
        uint256 allowanceToSender; // allowance(ALICE, sender)
        uint256 allowanceToBob; // allowance(ALICE, BOB)
        bool minter; // the sender is an enabled minter
        uint256 minterAllowance; // the sender's minter allowance
        bool seizer; // the sender holds SEIZER_ROLE
    }

    /// @dev The state of the money rules and ONE arbitrary call from an arbitrary sender (the zero
    /// address included): {_leanState} (arbitrary balances, frozen amount and cap of ALICE and BOB),
    /// arbitrary reserves, an arbitrary allowance of ALICE to BOB and one of ALICE to the sender (written
    /// in that order and read back, so a sender who is BOB sees one allowance). Everything the rules
    /// compare is read before the call and nothing branches before it, so the call's paths are explored
    /// once. `only` pins the selector (0: any); the twins use it to stop at the function that breaks them.
    function _moneyCall(bytes4 only) internal returns (Before memory b, bool ok, bytes4 sel) {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        b.sender = _sender();
        _put(_allowanceSlot(ALICE, BOB), svm.createUint256("allowanceToBob"));
        _put(_allowanceSlot(ALICE, b.sender), svm.createUint256("allowanceToSender"));
        b.allowanceToBob = _rawAllowance(ALICE, BOB);
        b.allowanceToSender = _rawAllowance(ALICE, b.sender);
        (b.supply, b.alice, b.bob) = (_rawSupply(), _rawBalance(ALICE), _rawBalance(BOB));
        b.aliceFrozen = _rawFrozenAmount(ALICE);
        uint256 minter = _rawMinter(b.sender);
        (b.minter, b.minterAllowance) = (minter >> 255 == 1, minter & MASK128);
        b.seizer = _rawHasRole(SEIZER_ROLE, b.sender);
        (ok, sel) = _anyCall(b.sender, true, only);
    }

    /// The rules over ANY single call (arbitrary calldata, arbitrary caller) that share one state, proved
    /// together after one path exploration (seven explorations of the same calls before):
    /// - onlyMintBurnChangeSupply: only mint and burn change the total supply (OZ:
    ///   onlyMintAndBurnCanChangeTotalSupply);
    /// - zeroAddressHoldsNothing: the zero address holds nothing, whatever is called (OZ:
    ///   zeroAddressNoBalance);
    /// - mintBounded: mint never exceeds the minter's allowance, the fresh attested reserves or the cap:
    ///   whenever the supply goes up, the caller was an enabled minter whose allowance went down by the
    ///   increase, the new supply is within the cap and the reserves, and the attestation was fresh;
    /// - onlyHolderOrSpenderReduces: only the holder or an approved spender reduces a balance (OZ:
    ///   onlyHolderOfSpenderCanChangeBalance), plus the documented exceptions: a seizure by SEIZER_ROLE,
    ///   and an EIP-3009 authorization (signed by the holder, submitted by anyone);
    /// - onlyHolderOrPermitRaisesAllowance: only the holder or a permit raises an allowance (OZ:
    ///   onlyHolderCanChangeAllowance, with permit);
    /// - partialFreezeFloor: a partially frozen account never goes below its frozen amount except by a
    ///   seizure: the part of the balance covered by the freeze, min(balance, frozen amount), only
    ///   leaves through `seize`;
    /// - zeroSenderMovesNothing: the zero address cannot act: a call with msg.sender == address(0)
    ///   changes no balance in play and not the supply (OpenZeppelin's ERC-20 refuses such a sender with
    ///   ERC-6093 errors), except an EIP-3009 authorization, which the holder signed and anyone may submit.
    /// @custom:rules onlyMintBurnChangeSupply zeroAddressHoldsNothing mintBounded onlyHolderOrSpenderReduces onlyHolderOrPermitRaisesAllowance partialFreezeFloor zeroSenderMovesNothing
    function check_anyCallMoneyRules() public {
        (Before memory b, bool ok, bytes4 sel) = _moneyCall(0);
        // The state after the call is read from storage and the claims are branch-free (see {_and}):
        // one condition, one assert, on every path.
        uint256 s1 = _rawSupply();
        uint256 a1 = _rawBalance(ALICE);
        bool aliceDown = _and(ok, a1 < b.alice);
        // onlyMintBurnChangeSupply
        bool holds = _implies(_and(ok, s1 != b.supply), _or(sel == MINT, sel == BURN));
        // zeroAddressHoldsNothing
        holds = _and(holds, _rawBalance(address(0)) == 0);
        // mintBounded
        holds = _and(holds, _implies(_and(ok, s1 > b.supply), _mintWithinBounds(b, s1)));
        // onlyHolderOrSpenderReduces (a1 < a0 there, so the subtraction cannot wrap)
        unchecked {
            holds = _and(
                holds,
                _implies(
                    aliceDown,
                    _or(
                        _or(b.sender == ALICE, b.allowanceToSender >= b.alice - a1),
                        _or(_and(sel == SEIZE, b.seizer), _isAuthorization(sel))
                    )
                )
            );
        }
        // onlyHolderOrPermitRaisesAllowance
        holds = _and(
            holds,
            _implies(_and(ok, _rawAllowance(ALICE, BOB) > b.allowanceToBob), _or(b.sender == ALICE, _isPermit(sel)))
        );
        // partialFreezeFloor: below min(a0, f0) only by a seizure
        holds = _and(holds, _implies(_and(aliceDown, a1 < b.aliceFrozen), _and(sel == SEIZE, b.seizer)));
        // zeroSenderMovesNothing
        holds = _and(
            holds,
            _implies(
                _and(b.sender == address(0), !_isAuthorization(sel)),
                _and(_and(a1 == b.alice, _rawBalance(BOB) == b.bob), s1 == b.supply)
            )
        );
        assert(holds);
    }

    /// @dev mintBounded's claim once the supply rose from `b.supply` to `s1`: the sender was an enabled
    /// minter whose allowance fell by exactly the rise (no wrap: allowances < 2^128, the rise < 2^96),
    /// the new supply is within the cap and the reserves, and the attestation was fresh.
    function _mintWithinBounds(Before memory b, uint256 s1) internal view returns (bool) {
        uint256 reserves = _word(bytes32(RESERVES_SLOT)); // [0,128) amount | [128,192) asOf | [192,256) max age
        unchecked {
            return _and(
                _and(b.minter, (_rawMinter(b.sender) & MASK128) + (s1 - b.supply) == b.minterAllowance),
                _and(
                    _and(s1 <= _rawCap(), s1 <= reserves & MASK128),
                    block.timestamp <= ((reserves >> 128) & type(uint64).max) + (reserves >> 192)
                )
            );
        }
    }

    /// Twin of onlyMintBurnChangeSupply: "no call changes the supply" (false: a mint does).
    function check_twin_onlyMintBurnChangeSupply() public {
        (Before memory b,,) = _moneyCall(MINT);
        assert(_supply() == b.supply);
    }

    /// Twin of zeroAddressHoldsNothing: the same claim for CAROL, an ordinary account that starts empty
    /// (false: she can be paid).
    function check_twin_zeroAddressHoldsNothing() public {
        _moneyCall(TRANSFER);
        assert(_bal(CAROL) == 0);
    }

    /// Twin of mintBounded: "the new supply stays strictly below the reserves" (false: a mint may reach
    /// them exactly).
    function check_twin_mintBounded() public {
        (Before memory b, bool ok,) = _moneyCall(MINT);
        (uint256 reserve,,,) = token.reserves();
        if (ok && _supply() > b.supply) assert(_supply() < reserve);
    }

    /// Twin of onlyHolderOrSpenderReduces: without the seizure exception.
    function check_twin_onlyHolderOrSpenderReduces() public {
        (Before memory b, bool ok, bytes4 sel) = _moneyCall(SEIZE);
        uint256 a1 = _bal(ALICE);
        if (ok && a1 < b.alice) {
            assert(b.sender == ALICE || b.allowanceToSender >= b.alice - a1 || _isAuthorization(sel));
        }
    }

    /// Twin of onlyHolderOrPermitRaisesAllowance: without the permit exception.
    function check_twin_onlyHolderOrPermitRaisesAllowance() public {
        (Before memory b, bool ok,) = _moneyCall(PERMIT_VRS);
        if (ok && token.allowance(ALICE, BOB) > b.allowanceToBob) assert(b.sender == ALICE);
    }

    /// Twin of partialFreezeFloor: without the seizure exception.
    function check_twin_partialFreezeFloor() public {
        (Before memory b, bool ok,) = _moneyCall(SEIZE);
        uint256 a1 = _bal(ALICE);
        if (ok) assert(!(a1 < b.alice && a1 < b.aliceFrozen));
    }

    /// Twin of zeroSenderMovesNothing: the same for ALICE (false: she can pay).
    function check_twin_zeroSenderMovesNothing() public {
        (Before memory b,, bytes4 sel) = _moneyCall(TRANSFER);
        if (b.sender == ALICE && !_isAuthorization(sel)) {
            assert(_bal(ALICE) == b.alice && _bal(BOB) == b.bob && _supply() == b.supply);
        }
    }

    // ------------------------------------------------------------------ freezes

    /// A fully frozen account's balance never decreases except by a seizure (SEIZER_ROLE), and it never
    /// receives anything.
    function check_frozenNeverMoves() public {
        _leanState(ALICE, BOB, FROZEN_FLAG, 0);
        address sender = _sender();
        bool seizer = _rawHasRole(SEIZER_ROLE, sender);
        uint256 a0 = _rawBalance(ALICE);
        (bool ok, bytes4 sel) = _anyCall(sender, true);
        uint256 a1 = _rawBalance(ALICE);
        assert(_implies(ok, _and(a1 <= a0, _implies(a1 < a0, _and(sel == SEIZE, seizer)))));
    }

    /// Twin: "a frozen balance never decreases" (false: a seizure takes it).
    function check_twin_frozenNeverMoves() public {
        _leanState(ALICE, BOB, FROZEN_FLAG, 0);
        uint256 a0 = _bal(ALICE);
        _anyCall(_sender(), true, SEIZE);
        assert(_bal(ALICE) >= a0);
    }

    // ------------------------------------------------------------------ pause

    /// While paused no balance and no supply changes, except through the compliance path (`seize`).
    function check_pauseStopsMoney() public {
        _leanState(ALICE, BOB, 0, PAUSED_FLAG);
        (uint256 a0, uint256 b0, uint256 s0) = (_rawBalance(ALICE), _rawBalance(BOB), _rawSupply());
        (bool ok, bytes4 sel) = _anyCall(_sender(), true);
        assert(
            _implies(
                _and(ok, sel != SEIZE),
                _and(_and(_rawBalance(ALICE) == a0, _rawBalance(BOB) == b0), _rawSupply() == s0)
            )
        );
    }

    /// Twin: without the compliance exception.
    function check_twin_pauseStopsMoney() public {
        _leanState(ALICE, BOB, 0, PAUSED_FLAG);
        (uint256 a0, uint256 b0) = (_bal(ALICE), _bal(BOB));
        _anyCall(_sender(), true, SEIZE);
        assert(_bal(ALICE) == a0 && _bal(BOB) == b0);
    }

    // ------------------------------------------------------------------ tier limits

    /// Tier limits hold on every money path: while limits are on, a non-exempt account that receives
    /// ends within its tier's maximum balance, and one that sends (other than by seizure) ends within
    /// its tier's daily outflow.
    function check_tierLimits() public {
        (uint256 maxBalance, uint256 maxOutflow) = _tierState();
        uint256 a0 = _rawBalance(ALICE);
        (bool ok, bytes4 sel) = _anyCall(_sender(), true);
        uint256 a1 = _rawBalance(ALICE);
        // outflowToday(ALICE), as the getter computes it: the stored amount if stored today, else 0
        uint256 o = _word(keccak256(abi.encode(ALICE, OUTFLOWS_SLOT)));
        bool today = (o & type(uint64).max) == block.timestamp / 1 days;
        assert(
            _and(
                _implies(_and(ok, a1 > a0), a1 <= maxBalance),
                _implies(_and(_and(ok, a1 < a0), sel != SEIZE), _implies(today, (o >> 64) <= maxOutflow))
            )
        );
    }

    /// Twin: the same claim for an EXEMPT account (false: exemption lifts the limits).
    function check_twin_tierLimits() public {
        (uint256 maxBalance,) = _tierState();
        _put(_accountSlot(ALICE), _word(_accountSlot(ALICE)) | EXEMPT_FLAG);
        uint256 a0 = _bal(ALICE);
        (bool ok,) = _anyCall(_sender(), true, TRANSFER);
        if (ok && _bal(ALICE) > a0) assert(_bal(ALICE) <= maxBalance);
    }

    /// @dev Limits on; ALICE in an arbitrary tier with arbitrary limits and today's outflow within its
    /// limit; BOB exempt (so he can pay her) and fresh reserves (so a minter can).
    function _tierState() internal returns (uint256 maxBalance, uint256 maxOutflow) {
        uint256 tier = svm.createUint(8, "tier");
        _leanState(ALICE, BOB, tier << 200, LIMITS_FLAG);
        _put(_accountSlot(BOB), _word(_accountSlot(BOB)) | EXEMPT_FLAG);
        _symbolicReserves();
        maxBalance = svm.createUint(128, "maxBalance");
        maxOutflow = svm.createUint(128, "maxOutflow");
        _put(keccak256(abi.encode(tier, TIER_LIMITS_SLOT)), (maxOutflow << 128) | maxBalance);
        uint256 spent = svm.createUint(128, "spentToday");
        vm.assume(spent <= maxOutflow);
        _put(keccak256(abi.encode(ALICE, OUTFLOWS_SLOT)), (spent << 64) | (block.timestamp / 1 days));
    }

    // ------------------------------------------------------------------ helpers

    function _isPermit(bytes4 sel) internal pure returns (bool) {
        return _or(sel == PERMIT_VRS, sel == bytes4(keccak256("permit(address,address,uint256,uint256,bytes)")));
    }
}
