// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockERC1271Wallet (TEST ONLY, never deploy)
/// @notice A minimal ERC-1271 contract wallet: a signature is valid when it is an ECDSA signature of the
/// digest by `owner`. The signature tests use it to show that permit and EIP-3009 keep accepting contract
/// wallets while EOA signatures revert with OpenZeppelin's errors.
contract MockERC1271Wallet is IERC1271 {
    /// @notice The key holder whose ECDSA signatures this wallet accepts.
    address public immutable owner;

    /// @param owner_ The key holder.
    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice ERC-1271: `IERC1271.isValidSignature.selector` when `signature` is `owner`'s over `hash`.
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? this.isValidSignature.selector : bytes4(0);
    }
}
