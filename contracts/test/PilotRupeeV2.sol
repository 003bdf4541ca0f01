// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PilotRupee} from "../PilotRupee.sol";

/// @title PilotRupeeV2 (test upgrade target)
/// @notice PilotRupee plus one new field in its own ERC-7201 namespace, used by the upgrade tests to show
/// that an upgrade keeps every existing slot and adds state without touching V1's namespace.
contract PilotRupeeV2 is PilotRupee {
    /// @custom:storage-location erc7201:pkrpilot.storage.PilotRupeeV2
    struct PilotRupeeV2Storage {
        uint256 upgradeMarker;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("pkrpilot.storage.PilotRupeeV2")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _PILOT_RUPEE_V2_STORAGE_LOCATION =
        0x926d5891374f34e8b6b132b4510fab5aaeb3bc433894935e87e4909f2e21bd00;

    /// @notice Emitted once, by {initializeV2}.
    event UpgradeMarkerSet(uint256 marker);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() PilotRupee() {}

    /// @notice Second-stage initializer, run through upgradeToAndCall.
    /// @dev Requirements: not run before on this proxy (reinitializer(2)). Emits UpgradeMarkerSet.
    function initializeV2(uint256 marker) external reinitializer(2) {
        _getPilotRupeeV2Storage().upgradeMarker = marker;
        emit UpgradeMarkerSet(marker);
    }

    /// @notice The value stored by {initializeV2}.
    function upgradeMarker() external view returns (uint256) {
        return _getPilotRupeeV2Storage().upgradeMarker;
    }

    /// @notice Implementation version: 2.
    function version() external pure override returns (uint256) {
        return 2;
    }

    function _getPilotRupeeV2Storage() private pure returns (PilotRupeeV2Storage storage $) {
        assembly ("memory-safe") {
            // Point the storage pointer at the V2 namespace root computed above.
            $.slot := _PILOT_RUPEE_V2_STORAGE_LOCATION
        }
    }
}
