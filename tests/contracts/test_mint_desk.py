"""MintDesk: maker-checker minting and redemption burns against the real PilotRupee on anvil.

Every revert test mines the transaction and names the exact custom error and its arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _desk_fixtures import (
    APPROVALS_REQUIRED,
    DAILY_DIRECT_LIMIT,
    REQUEST_TTL,
    THRESHOLD,
    DeskEnv,
    Revert,
    desk_env,
    ref,
)

from _provider import ape_provider_url, under_ape

MINT, BURN = 1, 2  # IMintDesk.RequestKind
PENDING, EXECUTED, CANCELLED, EXPIRED = 1, 2, 3, 4  # IMintDesk.RequestStatus
DAY = 86_400

pytestmark = pytest.mark.behaviour


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[DeskEnv]:
    with desk_env(ape_provider_url() if under_ape(request.config) else None) as env:
        yield env


@pytest.fixture
def env(stack: DeskEnv) -> Iterator[DeskEnv]:
    with stack.snapshot():
        yield stack


# ─────────────────────────────────────────────────────────── helpers


def request(env: DeskEnv, rid: int) -> dict[str, Any]:
    fields = (
        "maker",
        "expiresAt",
        "approvals",
        "requiredApprovals",
        "kind",
        "status",
        "to",
        "amount",
        "ref",
    )
    return dict(zip(fields, env.desk.functions.getRequest(rid).call(), strict=True))


def request_mint(
    env: DeskEnv, amount: int, label: str, *, to: str | None = None, maker: str | None = None
) -> int:
    receipt = env.send(
        env.desk.functions.requestMint(to or env.accounts.user, amount, ref(label)),
        maker or env.accounts.maker,
    )
    (event,) = env.events(receipt, env.desk, "MintRequested")
    return int(event["id"])


def request_burn(env: DeskEnv, amount: int, label: str) -> int:
    receipt = env.send(env.desk.functions.requestBurn(amount, ref(label)), env.accounts.maker)
    (event,) = env.events(receipt, env.desk, "BurnRequested")
    return int(event["id"])


def mint_through_desk(env: DeskEnv, amount: int, label: str) -> int:
    """Request, approve (as many checkers as needed) and execute a mint to the user."""
    d, a = env.desk.functions, env.accounts
    rid = request_mint(env, amount, label)
    for checker in (a.checker1, a.checker2, a.checker3)[: request(env, rid)["requiredApprovals"]]:
        env.send(d.approveMint(rid), checker)
    env.send(d.executeMint(rid), a.checker1)
    return rid


def fund_desk_for_redemption(env: DeskEnv, amount: int) -> None:
    """The user receives `amount` through the desk and sends it back to redeem."""
    mint_through_desk(env, amount, f"deposit-{amount}")
    env.send(env.token.functions.transfer(env.desk.address, amount), env.accounts.user)


def role(env: DeskEnv, name: str) -> bytes:
    return bytes(getattr(env.desk.functions, name)().call())


# ─────────────────────────────────────────────────────────── minting: the four-eyes flow


def test_request_mint_files_a_pending_request_and_emits_it(env: DeskEnv) -> None:
    a = env.accounts
    receipt = env.send(env.desk.functions.requestMint(a.user, 5_000, ref("bank-1")), a.maker)
    (event,) = env.events(receipt, env.desk, "MintRequested")
    block_time = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]

    assert event["id"] == 1 and event["maker"] == a.maker and event["to"] == a.user
    assert event["amount"] == 5_000 and event["ref"] == ref("bank-1")
    assert event["requiredApprovals"] == 1 and event["expiresAt"] == block_time + REQUEST_TTL
    assert request(env, 1) == {
        "maker": a.maker,
        "expiresAt": block_time + REQUEST_TTL,
        "approvals": 0,
        "requiredApprovals": 1,
        "kind": MINT,
        "status": PENDING,
        "to": a.user,
        "amount": 5_000,
        "ref": ref("bank-1"),
    }
    assert env.desk.functions.requestCount().call() == 1
    assert env.desk.functions.pendingRequestIds(0, 10).call() == [[1], 0]
    assert env.token.functions.balanceOf(a.user).call() == 0


def test_maker_cannot_approve_own_request_even_holding_checker_role(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    env.send(d.grantRole(role(env, "CHECKER_ROLE"), a.maker), a.admin)
    rid = request_mint(env, 5_000, "bank-1")

    assert env.revert_of(d.approveMint(rid), a.maker) == Revert(
        "MakerCannotApprove", (rid, a.maker)
    )


def test_approve_by_account_without_checker_role_reverts_with_access_control_error(
    env: DeskEnv,
) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")

    assert env.revert_of(d.approveMint(rid), a.maker2) == Revert(
        "AccessControlUnauthorizedAccount", (a.maker2, role(env, "CHECKER_ROLE"))
    )


def test_request_mint_by_account_without_maker_role_reverts(env: DeskEnv) -> None:
    a = env.accounts
    assert env.revert_of(env.desk.functions.requestMint(a.user, 1, ref("x")), a.checker1) == Revert(
        "AccessControlUnauthorizedAccount", (a.checker1, role(env, "MAKER_ROLE"))
    )


def test_same_checker_cannot_approve_twice(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, THRESHOLD + 1, "bank-1")
    env.send(d.approveMint(rid), a.checker1)

    assert env.revert_of(d.approveMint(rid), a.checker1) == Revert(
        "AlreadyApproved", (rid, a.checker1)
    )


def test_amount_exactly_at_threshold_needs_one_approval_then_executes(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, THRESHOLD, "bank-1")
    assert request(env, rid)["requiredApprovals"] == 1

    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 0, 1))
    receipt = env.send(d.approveMint(rid), a.checker1)
    assert env.events(receipt, env.desk, "MintApproved") == [
        {"id": rid, "checker": a.checker1, "approvals": 1, "requiredApprovals": 1}
    ]
    assert env.revert_of(d.approveMint(rid), a.checker2) == Revert("ApprovalsComplete", (rid, 1))

    receipt = env.send(d.executeMint(rid), a.maker)
    assert env.events(receipt, env.desk, "MintExecuted") == [
        {"id": rid, "executor": a.maker, "to": a.user, "amount": THRESHOLD, "ref": ref("bank-1")}
    ]
    assert env.token.functions.balanceOf(a.user).call() == THRESHOLD
    assert request(env, rid)["status"] == EXECUTED
    assert env.desk.functions.pendingRequestCount().call() == 0


def test_one_base_unit_above_threshold_needs_n_distinct_approvals(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, THRESHOLD + 1, "bank-1")
    assert request(env, rid)["requiredApprovals"] == APPROVALS_REQUIRED == 2

    env.send(d.approveMint(rid), a.checker1)
    assert env.revert_of(d.executeMint(rid), a.checker1) == Revert(
        "NotEnoughApprovals", (rid, 1, 2)
    )
    env.send(d.approveMint(rid), a.checker2)
    assert env.revert_of(d.approveMint(rid), a.checker3) == Revert("ApprovalsComplete", (rid, 2))
    assert d.hasApproved(rid, a.checker1).call() and d.hasApproved(rid, a.checker2).call()
    assert not d.hasApproved(rid, a.checker3).call()

    env.send(d.executeMint(rid), a.checker3)
    assert env.token.functions.balanceOf(a.user).call() == THRESHOLD + 1


def test_policy_tightened_after_filing_binds_the_pending_request(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, THRESHOLD + 1, "bank-1")
    env.send(d.approveMint(rid), a.checker1)
    env.send(d.approveMint(rid), a.checker2)
    env.send(
        d.setApprovalPolicy(THRESHOLD, 3, DAILY_DIRECT_LIMIT, REQUEST_TTL, ref("board-7")), a.admin
    )

    assert d.approvalsNeeded(rid).call() == 3
    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 2, 3))
    env.send(d.approveMint(rid), a.checker3)
    env.send(d.executeMint(rid), a.maker)
    assert request(env, rid)["status"] == EXECUTED


def test_policy_loosened_after_filing_does_not_relax_the_pending_request(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, THRESHOLD + 1, "bank-1")
    env.send(
        d.setApprovalPolicy(THRESHOLD, 1, DAILY_DIRECT_LIMIT, REQUEST_TTL, ref("board-8")), a.admin
    )
    env.send(d.approveMint(rid), a.checker1)

    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 1, 2))


def test_execute_by_account_with_neither_role_reverts(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    env.send(d.approveMint(rid), a.checker1)

    assert env.revert_of(d.executeMint(rid), a.outsider) == Revert(
        "NotMakerOrChecker", (a.outsider,)
    )


def test_token_refusal_reverts_execution_and_leaves_request_pending(env: DeskEnv) -> None:
    a, d, t = env.accounts, env.desk.functions, env.token.functions
    rid = request_mint(env, 5_000, "bank-1")
    env.send(d.approveMint(rid), a.checker1)
    env.send(t.pause(), a.pauser)

    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("EnforcedPause", ())
    assert request(env, rid)["status"] == PENDING
    env.send(t.unpause(), a.admin)
    env.send(d.executeMint(rid), a.maker)
    assert t.balanceOf(a.user).call() == 5_000


def test_unknown_id_and_wrong_kind_are_named(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")

    assert env.revert_of(d.approveMint(99), a.checker1) == Revert("RequestNotFound", (99,))
    assert env.revert_of(d.approveBurn(rid), a.checker1) == Revert("WrongRequestKind", (rid, MINT))
    assert env.revert_of(d.executeBurn(rid), a.checker1) == Revert("WrongRequestKind", (rid, MINT))


def test_invalid_request_inputs_are_rejected(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    zero = "0x" + "00" * 20
    assert env.revert_of(d.requestMint(zero, 1, ref("x")), a.maker) == Revert(
        "InvalidRecipient", (zero,)
    )
    assert env.revert_of(d.mintDirect(zero, 1, ref("x")), a.maker) == Revert("InvalidRecipient", (zero,))
    assert d.isRefAvailable(ref("x")).call() is True  # a refused mint leaves the ref free
    assert env.revert_of(d.requestMint(a.user, 0, ref("x")), a.maker) == Revert("ZeroAmount", ())
    assert env.revert_of(d.requestMint(a.user, 2**96, ref("x")), a.maker) == Revert(
        "AmountTooLarge", (2**96, 2**96 - 1)
    )


# ─────────────────────────────────────────────────────────── expiry


def test_request_can_be_approved_and_executed_up_to_its_expiry_second(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    expires_at = request(env, rid)["expiresAt"]

    env.set_next_timestamp(expires_at - 1)
    env.send(d.approveMint(rid), a.checker1)
    env.set_next_timestamp(expires_at)
    env.send(d.executeMint(rid), a.maker)
    assert env.token.functions.balanceOf(a.user).call() == 5_000


def test_request_one_second_after_expiry_cannot_be_approved_or_executed(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    env.send(d.approveMint(rid), a.checker1)
    expires_at = request(env, rid)["expiresAt"]

    env.set_next_timestamp(expires_at + 1)
    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("RequestExpired", (rid, expires_at))
    assert env.revert_of(d.approveMint(rid), a.checker2) == Revert(
        "RequestExpired", (rid, expires_at)
    )
    assert env.token.functions.balanceOf(a.user).call() == 0


def test_close_expired_only_after_expiry_and_frees_the_ref(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    expires_at = request(env, rid)["expiresAt"]

    env.set_next_timestamp(expires_at)
    assert env.revert_of(d.closeExpired(rid), a.outsider) == Revert(
        "RequestNotExpired", (rid, expires_at)
    )
    env.set_next_timestamp(expires_at + 1)
    receipt = env.send(d.closeExpired(rid), a.outsider)

    assert env.events(receipt, env.desk, "ExpiredRequestClosed") == [
        {"id": rid, "closer": a.outsider, "expiresAt": expires_at, "ref": ref("bank-1")}
    ]
    assert request(env, rid)["status"] == EXPIRED
    assert d.pendingRequestCount().call() == 0
    assert d.refHolder(ref("bank-1")).call() == 0
    assert env.revert_of(d.closeExpired(rid), a.outsider) == Revert(
        "RequestNotPending", (rid, EXPIRED)
    )
    request_mint(env, 5_000, "bank-1")  # the bank transfer can be filed again: nothing was minted


# ─────────────────────────────────────────────────────────── references


def test_ref_of_an_executed_mint_is_rejected_for_every_later_mint(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    mint_through_desk(env, 5_000, "bank-1")

    used = ref("bank-1")
    assert not d.isRefAvailable(used).call()
    assert env.revert_of(d.requestMint(a.user, 5_000, used), a.maker) == Revert(
        "RefAlreadyUsed", (used,)
    )
    assert env.revert_of(d.requestMint(a.user, 7, used), a.maker2) == Revert(
        "RefAlreadyUsed", (used,)
    )
    assert env.revert_of(d.mintDirect(a.user, 5_000, used), a.maker) == Revert(
        "RefAlreadyUsed", (used,)
    )


def test_ref_held_by_live_pending_request_is_rejected_until_it_expires(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    first = request_mint(env, 5_000, "bank-1")
    held = ref("bank-1")
    assert env.revert_of(d.requestMint(a.user, 5_000, held), a.maker2) == Revert(
        "RefAlreadyUsed", (held,)
    )

    env.set_next_timestamp(request(env, first)["expiresAt"] + 1)
    second = request_mint(
        env, 5_000, "bank-1", maker=a.maker2
    )  # the lapsed request no longer holds it
    assert d.refHolder(held).call() == second
    env.send(d.cancelMint(first), a.maker)  # closing the old one must not free the new holder's ref
    assert d.refHolder(held).call() == second


def test_direct_mint_ref_is_consumed(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    env.send(d.mintDirect(a.user, 1_000, ref("bank-9")), a.maker)

    assert d.refHolder(ref("bank-9")).call() == d.DIRECT_REF_HOLDER().call() == 2**256 - 1
    assert env.revert_of(d.requestMint(a.user, 1_000, ref("bank-9")), a.maker) == Revert(
        "RefAlreadyUsed", (ref("bank-9"),)
    )


# ─────────────────────────────────────────────────────────── cancel


def test_maker_cancels_own_request_and_the_ref_is_free_again(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    env.send(d.approveMint(rid), a.checker1)

    receipt = env.send(d.cancelMint(rid), a.maker)
    assert env.events(receipt, env.desk, "MintCancelled") == [{"id": rid, "canceller": a.maker, "ref": ref("bank-1")}]
    assert request(env, rid)["status"] == CANCELLED
    assert d.pendingRequestCount().call() == 0
    assert env.revert_of(d.executeMint(rid), a.maker) == Revert(
        "RequestNotPending", (rid, CANCELLED)
    )
    assert env.revert_of(d.cancelMint(rid), a.maker) == Revert(
        "RequestNotPending", (rid, CANCELLED)
    )
    assert d.isRefAvailable(ref("bank-1")).call()


def test_only_the_maker_or_the_admin_can_cancel(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")

    assert env.revert_of(d.cancelMint(rid), a.maker2) == Revert("CancelNotAllowed", (rid, a.maker2))
    assert env.revert_of(d.cancelMint(rid), a.checker1) == Revert(
        "CancelNotAllowed", (rid, a.checker1)
    )
    receipt = env.send(d.cancelMint(rid), a.admin)
    assert env.events(receipt, env.desk, "MintCancelled") == [{"id": rid, "canceller": a.admin, "ref": ref("bank-1")}]


# ─────────────────────────────────────────────────────────── direct minting and the daily limit


def test_direct_mint_above_threshold_is_refused(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    env.send(d.mintDirect(a.user, THRESHOLD, ref("bank-1")), a.maker)
    assert env.revert_of(d.mintDirect(a.user, THRESHOLD + 1, ref("bank-2")), a.maker) == Revert(
        "AboveDirectThreshold", (THRESHOLD + 1, THRESHOLD)
    )


def test_daily_direct_limit_is_exact_per_maker_and_rolls_over_at_utc_midnight(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    day = env.now() // DAY + 1
    start = day * DAY

    env.set_next_timestamp(start)
    env.send(d.mintDirect(a.user, THRESHOLD, ref("d-1")), a.maker)
    env.send(d.mintDirect(a.user, THRESHOLD, ref("d-2")), a.maker)
    env.set_next_timestamp(start + DAY - 2)
    receipt = env.send(
        d.mintDirect(a.user, DAILY_DIRECT_LIMIT - 2 * THRESHOLD, ref("d-3")), a.maker
    )
    assert env.events(receipt, env.desk, "MintedDirect")[0]["usedToday"] == DAILY_DIRECT_LIMIT
    assert d.directUsedToday(a.maker).call() == [DAILY_DIRECT_LIMIT, 0]

    env.set_next_timestamp(start + DAY - 1)  # last second of the same UTC day
    assert env.revert_of(d.mintDirect(a.user, 1, ref("d-4")), a.maker) == Revert(
        "DailyDirectLimitExceeded", (a.maker, day, DAILY_DIRECT_LIMIT, 1, DAILY_DIRECT_LIMIT)
    )
    env.send(d.mintDirect(a.user, 1, ref("d-5")), a.maker2)  # another maker has their own budget

    env.set_next_timestamp(start + DAY)  # next day
    receipt = env.send(d.mintDirect(a.user, 1, ref("d-4")), a.maker)
    (event,) = env.events(receipt, env.desk, "MintedDirect")
    assert (event["day"], event["usedToday"]) == (day + 1, 1)
    assert env.token.functions.balanceOf(a.user).call() == DAILY_DIRECT_LIMIT + 2


def test_zero_daily_limit_disables_direct_minting(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    env.send(
        d.setApprovalPolicy(THRESHOLD, APPROVALS_REQUIRED, 0, REQUEST_TTL, ref("board-9")), a.admin
    )
    env.set_next_timestamp(env.now() + 1)
    day = (env.now() + 1) // DAY

    assert env.revert_of(d.mintDirect(a.user, 1, ref("d-1")), a.maker) == Revert(
        "DailyDirectLimitExceeded", (a.maker, day, 0, 1, 0)
    )


# ─────────────────────────────────────────────────────────── pending list


def test_pending_list_pages_cover_every_pending_request_once(env: DeskEnv) -> None:
    d = env.desk.functions
    ids = [request_mint(env, 1_000 + i, f"bank-{i}") for i in range(5)]
    assert ids == [1, 2, 3, 4, 5]

    assert d.pendingRequestIds(0, 2).call() == [[1, 2], 2]
    assert d.pendingRequestIds(2, 2).call() == [[3, 4], 4]
    assert d.pendingRequestIds(4, 2).call() == [[5], 0]
    assert d.pendingRequestIds(5, 2).call() == [[], 0]
    assert d.pendingRequestIds(0, 10**6).call() == [
        [1, 2, 3, 4, 5],
        0,
    ]  # limit capped, not an error

    env.send(d.cancelMint(2), env.accounts.maker)
    pages, cursor = [], 0
    while True:
        page, cursor = d.pendingRequestIds(cursor, 2).call()
        pages.append(page)
        if cursor == 0:
            break
    assert pages == [[1, 5], [3, 4]]  # removal swaps the last id into the hole
    assert d.pendingRequestCount().call() == 4 and d.requestCount().call() == 5


def test_pending_list_page_boundaries(env: DeskEnv) -> None:
    d = env.desk.functions
    assert d.pendingRequestIds(0, 10).call() == [[], 0]  # empty list
    for i in range(4):
        request_mint(env, 1_000 + i, f"bank-{i}")
    assert d.pendingRequestIds(2, 2).call() == [[3, 4], 0]  # a page ending exactly at the end
    assert d.pendingRequestIds(0, 4).call() == [[1, 2, 3, 4], 0]
    assert d.pendingRequestIds(1, 3).call() == [[2, 3, 4], 0]
    assert d.pendingRequestIds(3, 1).call() == [[4], 0]
    assert d.pendingRequestIds(4, 1).call() == [[], 0]  # cursor at the end
    assert d.pendingRequestIds(5, 1).call() == [[], 0]  # cursor past the end
    assert d.pendingRequestIds(2**256 - 1, 100).call() == [[], 0]  # no overflow in cursor + limit
    assert d.pendingRequestIds(0, 3).call() == [[1, 2, 3], 3]  # one short of the end: a next page


def test_pending_page_size_is_capped(env: DeskEnv) -> None:
    assert env.desk.functions.MAX_PAGE_SIZE().call() == 100


# ─────────────────────────────────────────────────────────── redemption burns


def test_burn_flow_reserves_the_desk_balance_and_burns_after_approval(env: DeskEnv) -> None:
    a, d, t = env.accounts, env.desk.functions, env.token.functions
    fund_desk_for_redemption(env, 50_000)
    supply = t.totalSupply().call()

    assert env.revert_of(d.requestBurn(50_001, ref("payout-0")), a.maker) == Revert(
        "InsufficientDeskBalance", (50_000, 50_001)
    )
    rid = request_burn(env, 30_000, "payout-1")
    assert d.reservedForBurns().call() == 30_000
    assert env.revert_of(d.requestBurn(30_000, ref("payout-2")), a.maker) == Revert(
        "InsufficientDeskBalance", (20_000, 30_000)
    )
    assert request(env, rid)["kind"] == BURN and request(env, rid)["to"] == "0x" + "00" * 20

    assert env.revert_of(d.executeBurn(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 0, 1))
    assert env.revert_of(d.approveMint(rid), a.checker1) == Revert("WrongRequestKind", (rid, BURN))
    receipt = env.send(d.approveBurn(rid), a.checker1)
    assert env.events(receipt, env.desk, "BurnApproved") == [
        {"id": rid, "checker": a.checker1, "approvals": 1, "requiredApprovals": 1}
    ]
    receipt = env.send(d.executeBurn(rid), a.checker2)

    assert env.events(receipt, env.desk, "BurnExecuted") == [
        {"id": rid, "executor": a.checker2, "amount": 30_000, "ref": ref("payout-1")}
    ]
    assert t.totalSupply().call() == supply - 30_000
    assert t.balanceOf(env.desk.address).call() == 20_000
    assert d.reservedForBurns().call() == 0


def test_large_burn_needs_n_approvals_and_maker_cannot_approve_it(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    fund_desk_for_redemption(env, 3 * THRESHOLD)
    env.send(d.grantRole(role(env, "CHECKER_ROLE"), a.maker), a.admin)
    rid = request_burn(env, THRESHOLD + 1, "payout-1")

    assert env.revert_of(d.approveBurn(rid), a.maker) == Revert(
        "MakerCannotApprove", (rid, a.maker)
    )
    env.send(d.approveBurn(rid), a.checker1)
    assert env.revert_of(d.executeBurn(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 1, 2))
    env.send(d.approveBurn(rid), a.checker2)
    env.send(d.executeBurn(rid), a.maker)
    assert env.token.functions.balanceOf(env.desk.address).call() == 2 * THRESHOLD - 1


def test_cancelled_burn_releases_its_reservation(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    fund_desk_for_redemption(env, 40_000)
    rid = request_burn(env, 40_000, "payout-1")

    receipt = env.send(d.cancelBurn(rid), a.maker)
    assert env.events(receipt, env.desk, "BurnCancelled") == [{"id": rid, "canceller": a.maker, "ref": ref("payout-1")}]
    assert d.reservedForBurns().call() == 0
    request_burn(env, 40_000, "payout-1")


def test_expired_burn_keeps_its_reservation_until_closed(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    fund_desk_for_redemption(env, 40_000)
    rid = request_burn(env, 40_000, "payout-1")
    expires_at = request(env, rid)["expiresAt"]

    env.set_next_timestamp(expires_at + 1)
    assert env.revert_of(d.requestBurn(40_000, ref("payout-2")), a.maker) == Revert(
        "InsufficientDeskBalance", (0, 40_000)
    )
    env.send(d.closeExpired(rid), a.outsider)
    assert d.reservedForBurns().call() == 0
    request_burn(env, 40_000, "payout-1")  # nothing was burned under the ref: it is free again


def test_burn_refs_are_single_use_and_shared_with_mints(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    fund_desk_for_redemption(env, 50_000)
    rid = request_burn(env, 10_000, "payout-1")
    env.send(d.approveBurn(rid), a.checker1)
    env.send(d.executeBurn(rid), a.checker1)
    env.send(d.burnDirect(5_000, ref("payout-2")), a.maker)

    for used in (ref("payout-1"), ref("payout-2")):
        assert env.revert_of(d.requestBurn(1_000, used), a.maker) == Revert(
            "RefAlreadyUsed", (used,)
        )
        assert env.revert_of(d.burnDirect(1_000, used), a.maker) == Revert(
            "RefAlreadyUsed", (used,)
        )
        assert env.revert_of(d.requestMint(a.user, 1_000, used), a.maker) == Revert(
            "RefAlreadyUsed", (used,)
        )
    minted = ref("deposit-50000")  # the mint that funded the desk
    assert env.revert_of(d.requestBurn(1_000, minted), a.maker) == Revert(
        "RefAlreadyUsed", (minted,)
    )


def test_direct_burn_has_its_own_daily_budget(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    fund_desk_for_redemption(env, 3 * THRESHOLD)
    env.send(d.mintDirect(a.user, THRESHOLD, ref("m-1")), a.maker)
    env.send(d.burnDirect(THRESHOLD, ref("b-1")), a.maker)
    env.send(d.burnDirect(THRESHOLD, ref("b-2")), a.maker)

    day = (env.now() + 1) // DAY
    env.set_next_timestamp(env.now() + 1)
    assert env.revert_of(d.burnDirect(THRESHOLD, ref("b-3")), a.maker) == Revert(
        "DailyDirectLimitExceeded", (a.maker, day, 2 * THRESHOLD, THRESHOLD, DAILY_DIRECT_LIMIT)
    )
    assert d.directUsedToday(a.maker).call() == [THRESHOLD, 2 * THRESHOLD]


# ─────────────────────────────────────────────────────────── policy administration


def test_only_admin_sets_policy_and_invalid_values_are_named(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    assert env.revert_of(d.setApprovalPolicy(1, 1, 1, 1, ref("p")), a.maker) == Revert(
        "AccessControlUnauthorizedAccount", (a.maker, b"\x00" * 32)
    )
    assert env.revert_of(d.setApprovalPolicy(1, 0, 1, 1, ref("p")), a.admin) == Revert(
        "InvalidApprovalsRequired", (0,)
    )
    assert env.revert_of(d.setApprovalPolicy(1, 1, 1, 0, ref("p")), a.admin) == Revert(
        "InvalidRequestTtl", (0,)
    )

    receipt = env.send(d.setApprovalPolicy(5, 3, 7, 60, ref("p")), a.admin)
    assert env.events(receipt, env.desk, "ApprovalPolicySet") == [
        {
            "threshold": 5,
            "approvalsRequired": 3,
            "dailyDirectLimit": 7,
            "requestTtl": 60,
            "ref": ref("p"),
        }
    ]
    assert d.approvalPolicy().call() == (5, 7, 60, 3)


# ─────────────────────────────────────────────────────────── gas


def test_four_eyes_mint_gas_stays_within_ceilings(env: DeskEnv) -> None:
    """Receipt gasUsed of a large (two-approval) mint to an existing holder, desk in steady state.

    A first request is filed before so the request counter and the pending list are not at zero
    (the very first request on a new desk costs about 34,000 more: two zero-to-nonzero slots).
    """
    a, d = env.accounts, env.desk.functions
    mint_through_desk(env, 1_000, "earlier-deposit")
    request_mint(env, 1_000, "still-pending")
    request_receipt = env.send(d.requestMint(a.user, THRESHOLD + 1, ref("gas-1")), a.maker)
    (event,) = env.events(request_receipt, env.desk, "MintRequested")
    rid = event["id"]
    approve_receipt = env.send(d.approveMint(rid), a.checker1)
    last_approve_receipt = env.send(d.approveMint(rid), a.checker2)
    execute_receipt = env.send(d.executeMint(rid), a.checker1)

    gas = {
        "requestMint": request_receipt["gasUsed"],
        "approveMint": approve_receipt["gasUsed"],
        "approveMint_last": last_approve_receipt["gasUsed"],
        "executeMint": execute_receipt["gasUsed"],
    }
    assert gas["requestMint"] <= 190_000, gas
    # Separation of duties costs one read of the token per acting account (is it an attestor?) and
    # execution re-checks each approver's role: about 11,000 on the first approval (the token is cold
    # in that transaction), 19,000 on the last and 17,000 on execution (contracts/README.md).
    assert gas["approveMint"] <= 80_000 and gas["approveMint_last"] <= 80_000, gas
    assert gas["executeMint"] <= 110_000, gas


# ─────────────────────────────────────────────────────────── separation of duties and revoked checkers


def _attestor_role(env: DeskEnv) -> bytes:
    return bytes(env.token.functions.ATTESTOR_ROLE().call())


def test_an_attestor_cannot_be_made_maker_or_checker(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    for name in ("MAKER_ROLE", "CHECKER_ROLE"):
        assert env.revert_of(d.grantRole(role(env, name), a.attestor), a.admin) == Revert(
            "AttestorConflict", (a.attestor,)
        )
        assert d.hasRole(role(env, name), a.attestor).call() is False


def test_a_maker_who_became_an_attestor_can_no_longer_act(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1", maker=a.maker2)
    env.send(d.approveMint(rid), a.checker1)
    env.send(env.token.functions.grantRole(_attestor_role(env), a.maker2), a.admin)

    conflict = Revert("AttestorConflict", (a.maker2,))
    assert env.revert_of(d.requestMint(a.user, 5_000, ref("bank-2")), a.maker2) == conflict
    assert env.revert_of(d.mintDirect(a.user, 1_000, ref("bank-3")), a.maker2) == conflict
    assert env.revert_of(d.executeMint(rid), a.maker2) == conflict
    env.send(d.executeMint(rid), a.checker1)  # the request itself stays valid: its checker is not an attestor
    assert env.token.functions.balanceOf(a.user).call() == 5_000


def test_a_checker_who_became_an_attestor_can_no_longer_approve_and_its_approval_stops_counting(
    env: DeskEnv,
) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    env.send(d.approveMint(rid), a.checker1)
    other = request_mint(env, 6_000, "bank-2")
    env.send(env.token.functions.grantRole(_attestor_role(env), a.checker1), a.admin)

    assert env.revert_of(d.approveMint(other), a.checker1) == Revert("AttestorConflict", (a.checker1,))
    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 0, 1))
    assert request(env, rid)["approvals"] == 0
    env.send(d.approveMint(rid), a.checker2)
    env.send(d.executeMint(rid), a.maker)
    assert env.token.functions.balanceOf(a.user).call() == 5_000


def test_approvals_of_a_revoked_checker_no_longer_count_at_execution(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, THRESHOLD + 1, "bank-1")
    assert request(env, rid)["requiredApprovals"] == APPROVALS_REQUIRED == 2
    env.send(d.approveMint(rid), a.checker1)
    env.send(d.approveMint(rid), a.checker2)
    env.send(d.revokeRole(role(env, "CHECKER_ROLE"), a.checker2), a.admin)

    assert env.revert_of(d.executeMint(rid), a.maker) == Revert("NotEnoughApprovals", (rid, 1, 2))
    assert request(env, rid)["approvals"] == 1
    assert d.hasApproved(rid, a.checker2).call() is True  # recorded, but it no longer counts
    # A revoked checker's approval does not block a new one.
    receipt = env.send(d.approveMint(rid), a.checker3)
    (event,) = env.events(receipt, env.desk, "MintApproved")
    assert (event["approvals"], event["requiredApprovals"]) == (2, 2)
    assert env.revert_of(d.approveMint(rid), a.checker2) == Revert(
        "AccessControlUnauthorizedAccount", (a.checker2, role(env, "CHECKER_ROLE"))
    )
    env.send(d.executeMint(rid), a.maker)
    assert env.token.functions.balanceOf(a.user).call() == THRESHOLD + 1


def test_a_checker_whose_role_returns_counts_again_and_cannot_approve_twice(env: DeskEnv) -> None:
    a, d = env.accounts, env.desk.functions
    rid = request_mint(env, 5_000, "bank-1")
    env.send(d.approveMint(rid), a.checker1)
    env.send(d.revokeRole(role(env, "CHECKER_ROLE"), a.checker1), a.admin)
    env.send(d.grantRole(role(env, "CHECKER_ROLE"), a.checker1), a.admin)
    assert env.revert_of(d.approveMint(rid), a.checker1) == Revert("AlreadyApproved", (rid, a.checker1))
    env.send(d.executeMint(rid), a.maker)
