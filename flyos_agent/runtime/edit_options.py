"""The edit-config options the Manager accepts, and their checking."""

from __future__ import annotations

from flyos_agent.datastore.edit import ErrorOption, Operation
from flyos_agent.errors import InvalidValue

DEFAULT_OPERATIONS = (Operation.MERGE, Operation.REPLACE, Operation.NONE)
TEST_OPTIONS = ("test-then-set", "set", "test-only")


def parse_edit_options(default_operation: str, error_option: str, test_option: str) -> ErrorOption:
    """Check the edit-config options; InvalidValue (never a bare ValueError) for a bad one."""
    if default_operation not in DEFAULT_OPERATIONS:
        raise InvalidValue(
            f"unknown default-operation '{default_operation}' (merge, replace or none)"
        )
    if test_option not in TEST_OPTIONS:
        raise InvalidValue(f"unknown test-option '{test_option}' ({', '.join(TEST_OPTIONS)})")
    try:
        return ErrorOption(error_option)
    except ValueError:
        raise InvalidValue(
            f"unknown error-option '{error_option}' "
            f"({', '.join(option.value for option in ErrorOption)})"
        ) from None
