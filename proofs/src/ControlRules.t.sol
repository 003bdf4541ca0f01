// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PilotBase} from "./PilotBase.sol";

/// @title A caller without a role cannot touch the controls (the zero address's rule is in AnyCallRules).
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

    /// @dev `sender` holds no role and no minter configuration (read from storage, as {_controls}).
    function _noRole(address sender) internal view {
        bytes32[11] memory roles = [
            bytes32(0x00), // DEFAULT_ADMIN_ROLE
            keccak256("MINTER_ADMIN_ROLE"),
            keccak256("PAUSER_ROLE"),
            keccak256("UNPAUSER_ROLE"),
            keccak256("FREEZER_ROLE"),
            keccak256("SEIZER_ROLE"),
            keccak256("ATTESTOR_ROLE"),
            keccak256("BURNER_ROLE"),
            keccak256("RESCUER_ROLE"),
            keccak256("UPGRADER_ROLE"),
            keccak256("KYC_ROLE")
        ];
        for (uint256 i = 0; i < roles.length; i++) {
            vm.assume(!_rawHasRole(roles[i], sender));
        }
        vm.assume(_rawMinter(sender) >> 255 == 0);
    }

    /// @dev Read from storage (cheatcodes, no call through the proxy): after the arbitrary call this runs
    /// on every path. `role` mirrors hasRole(role, y).
    function _controls(address x, bytes32 role, address y, uint8 t) internal view returns (Controls memory c) {
        c.global = _word(bytes32(GLOBAL_SLOT));
        c.reserves = _word(bytes32(RESERVES_SLOT));
        c.accountControls = _word(_accountSlot(x)) >> 96;
        c.role = _rawHasRole(role, y);
        c.minter = _rawMinter(x);
        c.tierLimits = _word(keccak256(abi.encode(uint256(t), TIER_LIMITS_SLOT)));
        c.implementation = vm.load(address(token), IMPLEMENTATION_SLOT);
    }

    /// @dev Branch-free (see {_and}): one condition, one assert.
    function _same(Controls memory a, Controls memory b) internal pure returns (bool) {
        return _and(
            _and(_and(a.global == b.global, a.reserves == b.reserves), _and(a.accountControls == b.accountControls, a.role == b.role)),
            _and(_and(a.minter == b.minter, a.tierLimits == b.tierLimits), a.implementation == b.implementation)
        );
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
        _anyCall(FREEZER, false, bytes4(keccak256("freeze(address,bytes32)")));
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
        _anyMulticall(sender, 0);
        assert(_same(before, _controls(x, role, y, t)));
    }

    /// Twin: the same for the PAUSER (false: it pauses).
    function check_twin_noRoleMulticall() public {
        _leanState(ALICE, BOB, 0, 0);
        (address x, bytes32 role, address y, uint8 t) = _probe();
        Controls memory before = _controls(x, role, y, t);
        _anyMulticall(PAUSER, bytes4(keccak256("pause()")));
        assert(_same(before, _controls(x, role, y, t)));
    }
}
