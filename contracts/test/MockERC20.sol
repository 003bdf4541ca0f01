// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockERC20 (test only)
/// @notice A plain ERC-20 anyone can mint, used to test PilotRupee.rescueERC20.
contract MockERC20 is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` to `to`. Test helper: no access control.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
