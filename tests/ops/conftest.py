"""Fixtures for the operations tests: see ops_fixtures.py (shared with tests/cli/test_ops_cli.py)."""

from ops_fixtures import (  # noqa: F401 - fixtures are found by name
    _no_password_env,
    compiled,
    env,
    node,
    operator_for,
    ops_root,
    real_project,
    stack_env,
)
