// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @title PilotRupeeProxy
/// @notice The unmodified OpenZeppelin ERC1967Proxy under a project name, so the compile pipeline emits
/// its artifact next to the token's. Deploy it with (implementation, abi.encodeCall(initialize, ...)).
/// @dev Adds no code or storage: upgrades are UUPS, authorized by the implementation (UPGRADER_ROLE).
contract PilotRupeeProxy is ERC1967Proxy {
    /// @param implementation The PilotRupee implementation (its initializers are disabled).
    /// @param data The initializer call, executed in the proxy's context.
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}
