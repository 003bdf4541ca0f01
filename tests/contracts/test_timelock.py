"""PilotTimelock in front of the token: admin, upgrades and unpause wait for the delay; freezing and
pausing stay immediate; the former admin can no longer act directly.

Every revert test mines the transaction and names the exact custom error and its arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _desk_fixtures import (
    IMPLEMENTATION_SLOT,
    TIMELOCK_DELAY,
    TOKEN_ADMIN_DELAY,
    DeskEnv,
    Revert,
    desk_env,
    ref,
)

ZERO32 = b"\x00" * 32
# TimelockController.OperationState: Unset 0, Waiting 1, Ready 2, Done 3; the error carries a bitmap.
READY_BITMAP = (1 << 2).to_bytes(32, "big")


@pytest.fixture(scope="module")
def stack() -> Iterator[DeskEnv]:
    with desk_env() as env:
        yield env


@pytest.fixture
def env(stack: DeskEnv) -> Iterator[DeskEnv]:
    with stack.snapshot():
        yield stack


class Governance:
    """Schedules and executes token calls through the timelock, as the deploy's operators would."""

    def __init__(self, env: DeskEnv) -> None:
        self.env = env

    def operation(self, call: Any, salt: bytes = ZERO32) -> tuple[str, bytes, bytes]:
        data = bytes.fromhex(self.env.token.encode_abi(call.fn_name, args=call.args)[2:])
        op_id = self.env.timelock.functions.hashOperation(
            self.env.token.address, 0, data, ZERO32, salt
        ).call()
        return self.env.token.address, data, bytes(op_id)

    def schedule(self, call: Any) -> tuple[bytes, bytes, int]:
        """Schedule `call` on the token; returns its data, id and the timestamp it becomes ready."""
        target, data, op_id = self.operation(call)
        tl = self.env.timelock.functions
        self.env.send(
            tl.schedule(target, 0, data, ZERO32, ZERO32, TIMELOCK_DELAY), self.env.accounts.proposer
        )
        return data, op_id, tl.getTimestamp(op_id).call()

    def execute(self, data: bytes) -> Any:
        return self.env.timelock.functions.execute(self.env.token.address, 0, data, ZERO32, ZERO32)


def hand_over_to_timelock(env: DeskEnv) -> None:
    """What the deploy does: timelock gets UPGRADER and UNPAUSER; the admin role moves in two steps."""
    a, t = env.accounts, env.token.functions
    timelock = env.timelock.address
    env.send(t.grantRole(t.FREEZER_ROLE().call(), a.pauser), a.admin)
    env.send(t.grantRole(t.UPGRADER_ROLE().call(), timelock), a.admin)
    env.send(t.grantRole(t.UNPAUSER_ROLE().call(), timelock), a.admin)
    env.send(t.revokeRole(t.UNPAUSER_ROLE().call(), a.admin), a.admin)
    env.send(t.beginDefaultAdminTransfer(timelock), a.admin)
    env.set_next_timestamp(env.now() + TOKEN_ADMIN_DELAY + 1)
    gov = Governance(env)
    data, _, ready_at = gov.schedule(t.acceptDefaultAdminTransfer())
    env.set_next_timestamp(ready_at)
    env.send(gov.execute(data), a.executor)


@pytest.fixture
def governed(env: DeskEnv) -> DeskEnv:
    hand_over_to_timelock(env)
    return env


def implementation(env: DeskEnv) -> str:
    raw = env.w3.eth.get_storage_at(env.token.address, IMPLEMENTATION_SLOT)
    return env.w3.to_checksum_address(raw[-20:])


# ─────────────────────────────────────────────────────────── admin handover


def test_admin_handover_is_accepted_only_once_the_timelock_delay_has_passed(env: DeskEnv) -> None:
    a, t = env.accounts, env.token.functions
    env.send(t.beginDefaultAdminTransfer(env.timelock.address), a.admin)
    env.set_next_timestamp(env.now() + TOKEN_ADMIN_DELAY + 1)
    gov = Governance(env)
    data, op_id, ready_at = gov.schedule(t.acceptDefaultAdminTransfer())

    env.set_next_timestamp(ready_at - 1)
    assert env.revert_of(gov.execute(data), a.executor) == Revert(
        "TimelockUnexpectedOperationState", (op_id, READY_BITMAP)
    )
    assert t.defaultAdmin().call() == a.admin
    env.set_next_timestamp(ready_at)
    env.send(gov.execute(data), a.executor)
    assert t.defaultAdmin().call() == env.timelock.address
    assert not t.hasRole(ZERO32, a.admin).call()


# ─────────────────────────────────────────────────────────── upgrade


def test_upgrade_through_timelock_reverts_before_the_delay_and_succeeds_after(
    governed: DeskEnv,
) -> None:
    env = governed
    a, t = env.accounts, env.token.functions
    env.send(env.desk.functions.mintDirect(a.user, 12_345, ref("before-upgrade")), a.maker)
    new_impl = env.deploy("PilotRupee").address
    old_impl = implementation(env)
    gov = Governance(env)
    data, op_id, ready_at = gov.schedule(t.upgradeToAndCall(new_impl, b""))

    env.set_next_timestamp(ready_at - 1)
    assert env.revert_of(gov.execute(data), a.executor) == Revert(
        "TimelockUnexpectedOperationState", (op_id, READY_BITMAP)
    )
    assert implementation(env) == old_impl == env.token_impl

    env.set_next_timestamp(ready_at)
    env.send(gov.execute(data), a.executor)
    assert implementation(env) == new_impl
    assert t.balanceOf(a.user).call() == 12_345  # state lives in the proxy and survives
    assert env.revert_of(gov.execute(data), a.executor) == Revert(
        "TimelockUnexpectedOperationState", (op_id, READY_BITMAP)
    )  # done operations cannot be replayed


# ─────────────────────────────────────────────────────────── pause and unpause


def test_pause_is_immediate_but_unpause_waits_for_the_timelock(governed: DeskEnv) -> None:
    env = governed
    a, t = env.accounts, env.token.functions
    env.send(t.pause(), a.pauser)
    assert t.paused().call()
    gov = Governance(env)
    data, op_id, ready_at = gov.schedule(t.unpause())

    env.set_next_timestamp(ready_at - 1)
    assert env.revert_of(gov.execute(data), a.executor) == Revert(
        "TimelockUnexpectedOperationState", (op_id, READY_BITMAP)
    )
    assert t.paused().call()
    env.set_next_timestamp(ready_at)
    env.send(gov.execute(data), a.executor)
    assert not t.paused().call()


def test_freeze_stays_immediate_under_timelocked_governance(governed: DeskEnv) -> None:
    env = governed
    a, t = env.accounts, env.token.functions
    env.send(t.freeze(a.user, ref("case-1")), a.pauser)
    assert t.isFrozen(a.user).call()


# ─────────────────────────────────────────────────────────── the former admin and outsiders


def test_former_admin_direct_calls_revert_with_the_access_control_error(governed: DeskEnv) -> None:
    env = governed
    a, t = env.accounts, env.token.functions
    env.send(t.pause(), a.pauser)

    assert env.revert_of(t.upgradeToAndCall(env.token_impl, b""), a.admin) == Revert(
        "AccessControlUnauthorizedAccount", (a.admin, bytes(t.UPGRADER_ROLE().call()))
    )
    assert env.revert_of(t.unpause(), a.admin) == Revert(
        "AccessControlUnauthorizedAccount", (a.admin, bytes(t.UNPAUSER_ROLE().call()))
    )
    assert env.revert_of(t.grantRole(t.UPGRADER_ROLE().call(), a.admin), a.admin) == Revert(
        "AccessControlUnauthorizedAccount", (a.admin, ZERO32)
    )
    assert env.revert_of(t.setSupplyCap(1, ref("cap")), a.admin) == Revert(
        "AccessControlUnauthorizedAccount", (a.admin, ZERO32)
    )


def test_only_proposers_schedule_and_only_executors_execute(governed: DeskEnv) -> None:
    env = governed
    a, t, tl = env.accounts, env.token.functions, env.timelock.functions
    gov = Governance(env)
    _, data, _ = gov.operation(t.unpause())

    assert env.revert_of(
        tl.schedule(env.token.address, 0, data, ZERO32, ZERO32, TIMELOCK_DELAY), a.admin
    ) == Revert("AccessControlUnauthorizedAccount", (a.admin, bytes(tl.PROPOSER_ROLE().call())))
    assert env.revert_of(
        tl.schedule(env.token.address, 0, data, ZERO32, ZERO32, TIMELOCK_DELAY - 1), a.proposer
    ) == Revert("TimelockInsufficientDelay", (TIMELOCK_DELAY - 1, TIMELOCK_DELAY))

    env.send(t.pause(), a.pauser)
    _, _, ready_at = gov.schedule(t.unpause())
    env.set_next_timestamp(ready_at)
    assert env.revert_of(gov.execute(data), a.outsider) == Revert(
        "AccessControlUnauthorizedAccount", (a.outsider, bytes(tl.EXECUTOR_ROLE().call()))
    )
