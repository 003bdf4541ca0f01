// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title PilotTimelock
 * @notice The pilot's governance delay: OpenZeppelin's `TimelockController`, unchanged, under a project
 * name so the build compiles it and the deploy can record it like every other contract.
 *
 * How the deploy uses it (proposers, executors and `minDelay` come from the deploy configuration):
 * - It holds the token's `DEFAULT_ADMIN_ROLE`. The token uses `AccessControlDefaultAdminRules`, so the
 *   handover is two-step: the deployer calls `beginDefaultAdminTransfer(timelock)` on the token, waits
 *   the token's admin delay, and the timelock then calls `acceptDefaultAdminTransfer()` through a
 *   scheduled operation (schedule, wait `minDelay`, execute). From then on every admin action (granting
 *   roles, supply cap, attestation age, tier limits, allowlist mode) is visible on chain `minDelay`
 *   seconds before it takes effect.
 * - It holds `UPGRADER_ROLE`: an upgrade is `upgradeToAndCall(newImplementation, data)` on the token
 *   proxy, scheduled and executed through the timelock.
 * - It holds `UNPAUSER_ROLE`: resuming after an incident is scheduled and visible before it happens.
 * - Freezing (`FREEZER_ROLE`), seizing and pausing (`PAUSER_ROLE`) stay with operators and act at once:
 *   the controls that stop harm must not wait; the ones that release or change the system do.
 * - The deployer passes `admin = address(0)` (or renounces the timelock's optional admin after setup)
 *   and renounces its own roles on the token, so nothing bypasses the delay.
 * - The timelock administers itself: changing proposers, executors or `minDelay` is also a scheduled
 *   operation (`updateDelay` must be called by the timelock itself).
 */
contract PilotTimelock is TimelockController {
    /**
     * @param minDelay Initial minimum delay in seconds for every operation.
     * @param proposers Accounts granted PROPOSER_ROLE and CANCELLER_ROLE (schedule and cancel).
     * @param executors Accounts granted EXECUTOR_ROLE; include `address(0)` to let anyone execute a
     *        ready operation.
     * @param admin Optional extra admin for initial role set-up; `address(0)` for none (recommended).
     *
     * Emits {MinDelayChange} and {RoleGranted} for each role granted.
     */
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
