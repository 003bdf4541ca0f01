// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRulesUpgradeable} from
    "@openzeppelin/contracts-upgradeable/access/extensions/AccessControlDefaultAdminRulesUpgradeable.sol";
import {EIP712Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/cryptography/EIP712Upgradeable.sol";
import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";
import {MulticallUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/MulticallUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

/// @title PilotRupeeBadLayout (TEST ONLY, never deploy)
/// @notice A would-be PilotRupee upgrade whose ERC-7201 namespace `pkrpilot.storage.PilotRupee` inserts a
/// member (`feeBps`) before `accounts`, shifting `accounts` and everything after it by one slot. Upgrading
/// to it would make every balance read from the wrong slot. The deploy tool must refuse it
/// (tests/deploy/test_upgrade.py): the clash is reported at namespace slot +4, label `accounts`.
/// @dev Same OpenZeppelin bases as PilotRupee, so the only difference the layout check sees is this one.
contract PilotRupeeBadLayout is
    AccessControlDefaultAdminRulesUpgradeable,
    EIP712Upgradeable,
    NoncesUpgradeable,
    MulticallUpgradeable,
    UUPSUpgradeable
{
    struct Word {
        uint256 value;
    }

    /// @custom:storage-location erc7201:pkrpilot.storage.PilotRupee
    struct PilotRupeeStorage {
        uint256 global;
        uint256 reserves;
        bytes32 reportHash;
        uint64 attestedAt;
        uint256 feeBps; // inserted: the clash
        mapping(address account => Word) accounts;
        mapping(address owner => mapping(address spender => Word)) allowances;
        mapping(address minter => Word) minters;
        mapping(uint8 tier => Word) tierLimitWords;
        mapping(address account => Word) outflows;
        mapping(address authorizer => mapping(bytes32 nonce => bool)) authorizationStates;
        string name;
        string symbol;
        uint8 decimals;
        mapping(address payer => mapping(uint256 refHigh => Word)) usedReferences;
    }

    bytes32 private constant _PILOT_RUPEE_STORAGE_LOCATION =
        0x9fdfe9d5f4ed7ee0fde9aa4f4454b07cdbf4e77d7f78d69b61af7d30576e3500;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice The fee in basis points (the new variable that breaks the layout).
    function feeBps() external view returns (uint256) {
        return _getPilotRupeeStorage().feeBps;
    }

    /// @notice Implementation version of this test contract.
    function version() external pure returns (uint256) {
        return 99;
    }

    function _getPilotRupeeStorage() private pure returns (PilotRupeeStorage storage $) {
        assembly ("memory-safe") {
            // Point the storage pointer at the same ERC-7201 root PilotRupee uses.
            $.slot := _PILOT_RUPEE_STORAGE_LOCATION
        }
    }

    function _authorizeUpgrade(address) internal view override onlyRole(DEFAULT_ADMIN_ROLE) {}
}
