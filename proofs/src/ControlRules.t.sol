// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PilotBase} from "./PilotBase.sol";

/// @title A caller without a role cannot touch the controls; the zero address cannot act.
/// @notice For ANY single call (arbitrary calldata, `upgradeToAndCall` included) and for `multicall`
/// with one arbitrary inner call, by an arbitrary sender holding no role and no minter configuration,
/// none of these change: the global word (supply, cap, pause, limits switch, allowlist switch), the
/// reserves word (amount, as-of, max age), the freeze, tier and exemption bits of any account, any
/// role of any account, any minter's configuration, any tier's limits, the implementation.
contract ControlRules is PilotBase {
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    struct Controls {
        uint256 global;
        uint256 reserves;
        uint256 accountControls; // frozen amount, frozen flag, exemption flag, tier of account `x`
        bool role; // hasRole(role, y)
        uint256 minter; // the minter word of `x`
        uint256 tierLimits; // limits of tier `t`
        bytes32 implementation;
    }

    function _noRole(address sender) internal view {
        vm.assume(!token.hasRole(0x00, sender));
        vm.assume(!token.hasRole(token.MINTER_ADMIN_ROLE(), sender));
        vm.assume(!token.hasRole(token.PAUSER_ROLE(), sender));
        vm.assume(!token.hasRole(token.UNPAUSER_ROLE(), sender));
        vm.assume(!token.hasRole(token.FREEZER_ROLE(), sender));
        vm.assume(!token.hasRole(token.SEIZER_ROLE(), sender));
        vm.assume(!token.hasRole(token.ATTESTOR_ROLE(), sender));
        vm.assume(!token.hasRole(token.BURNER_ROLE(), sender));
        vm.assume(!token.hasRole(token.RESCUER_ROLE(), sender));
        vm.assume(!token.hasRole(token.UPGRADER_ROLE(), sender));
        vm.assume(!token.hasRole(token.KYC_ROLE(), sender));
        vm.assume(!token.isMinter(sender));
    }

    function _controls(address x, bytes32 role, address y, uint8 t) internal view returns (Controls memory c) {
        c.global = _word(bytes32(GLOBAL_SLOT));
        c.reserves = _word(bytes32(RESERVES_SLOT));
        c.accountControls = _word(_accountSlot(x)) >> 96;
        c.role = token.hasRole(role, y);
        c.minter = _word(keccak256(abi.encode(x, MINTERS_SLOT)));
        c.tierLimits = _word(keccak256(abi.encode(uint256(t), TIER_LIMITS_SLOT)));
        c.implementation = vm.load(address(token), IMPLEMENTATION_SLOT);
    }

    function _same(Controls memory a, Controls memory b) internal pure returns (bool) {
        return a.global == b.global && a.reserves == b.reserves && a.accountControls == b.accountControls
            && a.role == b.role && a.minter == b.minter && a.tierLimits == b.tierLimits
            && a.implementation == b.implementation;
    }

    function _probe() internal returns (address x, bytes32 role, address y, uint8 t) {
        x = svm.createAddress("x");
        role = svm.createBytes32("role");
        y = svm.createAddress("y");
        t = uint8(svm.createUint(8, "t"));
    }

    /// Any single call by a caller without a role changes no control (see the contract's notice).
    function check_noRoleChangesNoControls() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        address sender = svm.createAddress("sender");
        _noRole(sender);
        (address x, bytes32 role, address y, uint8 t) = _probe();
        Controls memory before = _controls(x, role, y, t);
        _anyCall(sender, false);
        assert(_same(before, _controls(x, role, y, t)));
    }

    /// Twin: the same for the FREEZER (false: it freezes).
    function check_twin_noRoleChangesNoControls() public {
        _leanState(ALICE, BOB, 0, 0);
        (address x, bytes32 role, address y, uint8 t) = _probe();
        Controls memory before = _controls(x, role, y, t);
        _anyCall(FREEZER, false);
        assert(_same(before, _controls(x, role, y, t)));
    }

    /// `multicall` with one arbitrary inner call by a caller without a role changes no control.
    function check_noRoleMulticall() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        address sender = svm.createAddress("sender");
        _noRole(sender);
        (address x, bytes32 role, address y, uint8 t) = _probe();
        Controls memory before = _controls(x, role, y, t);
        _anyMulticall(sender);
        assert(_same(before, _controls(x, role, y, t)));
    }

    /// Twin: the same for the PAUSER (false: it pauses).
    function check_twin_noRoleMulticall() public {
        _leanState(ALICE, BOB, 0, 0);
        (address x, bytes32 role, address y, uint8 t) = _probe();
        Controls memory before = _controls(x, role, y, t);
        _anyMulticall(PAUSER);
        assert(_same(before, _controls(x, role, y, t)));
    }

    /// The zero address cannot act: any call with msg.sender == address(0) changes no balance in play
    /// and not the supply (OpenZeppelin's ERC-20 refuses such a sender with ERC-6093 errors), except
    /// an EIP-3009 authorization, which the holder signed and anyone may submit.
    function check_zeroSenderMovesNothing() public {
        _leanState(ALICE, BOB, 0, 0);
        _symbolicReserves();
        (uint256 a0, uint256 b0, uint256 s0) = (_bal(ALICE), _bal(BOB), _supply());
        (, bytes4 sel) = _anyCall(address(0), true);
        if (!_isAuthorization(sel)) assert(_bal(ALICE) == a0 && _bal(BOB) == b0 && _supply() == s0);
    }

    /// Twin: the same for ALICE (false: she can pay).
    function check_twin_zeroSenderMovesNothing() public {
        _leanState(ALICE, BOB, 0, 0);
        (uint256 a0, uint256 b0, uint256 s0) = (_bal(ALICE), _bal(BOB), _supply());
        _anyCall(ALICE, true);
        assert(_bal(ALICE) == a0 && _bal(BOB) == b0 && _supply() == s0);
    }
}
