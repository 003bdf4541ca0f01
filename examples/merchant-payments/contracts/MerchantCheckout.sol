// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The two PKRP functions a checkout needs (EIP-2612 permit and ERC-20 transferFrom).
interface IPermitToken {
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;

    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title MerchantCheckout
/// @notice A merchant's checkout that takes PKRP in one transaction: the payer signs an EIP-2612
/// permit off-chain, the checkout spends it and forwards the amount to the merchant. Each order
/// is paid at most once. Pause, freezes and tier limits are the token's: a refused payment reverts
/// with the token's own error.
contract MerchantCheckout {
    /// @notice The order was paid before.
    error OrderAlreadyPaid(bytes32 orderId, address payer);
    /// @notice An order of zero is not an order.
    error ZeroAmount(bytes32 orderId);

    /// @notice `payer` paid `amount` for `orderId`.
    event OrderPaid(bytes32 indexed orderId, address indexed payer, uint256 amount);

    IPermitToken public immutable token;
    address public immutable merchant;
    mapping(bytes32 orderId => address payer) public paidBy;

    constructor(IPermitToken token_, address merchant_) {
        token = token_;
        merchant = merchant_;
    }

    /// @notice Pay `amount` for `orderId` with a permit signed by the caller for this contract.
    /// @dev Requirements: the order is unpaid, `amount` > 0, the permit is valid; the token's own
    /// checks (pause, freeze, limits) apply to the transfer. Emits {OrderPaid}.
    function payWithPermit(bytes32 orderId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        if (amount == 0) revert ZeroAmount(orderId);
        address earlier = paidBy[orderId];
        if (earlier != address(0)) revert OrderAlreadyPaid(orderId, earlier);
        paidBy[orderId] = msg.sender;
        token.permit(msg.sender, address(this), amount, deadline, v, r, s);
        token.transferFrom(msg.sender, merchant, amount);
        emit OrderPaid(orderId, msg.sender, amount);
    }
}
