"""Fixtures of the report tests: the shared stack with a book of operations, and one with records on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _book import write_book

from _stack import build_stack, deploy_config_for_tests
from pkr_pilot.contracts import Token


@pytest.fixture
def book(stack: Any) -> Token:
    """The shared test stack after the operations of ``_book.write_book`` (reverted after the test)."""
    return write_book(stack).token


@pytest.fixture
def recorded(chain: Any, project: Any, compiled: Any, tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """A stack deployed with its records in ``tmp_path/deployment`` and the book written on it."""
    from pkr_pilot.accounts import dev_account
    from pkr_pilot.deploy import deploy_stack

    folder = tmp_path / "deployment"
    with chain.snapshot():
        deployment = deploy_stack(
            chain, dev_account(0, chain_id=chain.chain_id), project, deploy_config_for_tests(),
            compiled=compiled, deployments_dir=folder,
        )
        stack = build_stack(chain, deployment, compiled.artifacts)
        write_book(stack)
        yield stack, folder
