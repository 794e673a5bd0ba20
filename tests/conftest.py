"""Settings for the whole test run."""

from __future__ import annotations

import os

# Every simulation in the project's own tests is authorized by iam-simulate (tests that check
# the simulation without it pass authorize=False).
os.environ.setdefault("EXPORT_CONSTRUCTS_AUTHORIZE", "1")


def pytest_terminal_summary(terminalreporter: object) -> None:
    """One line: how many requests iam-simulate evaluated in this run."""
    from export_constructs.testing import iam
    from export_constructs.testing.authorize import TOTALS

    shared = iam._shared
    if shared is not None:
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"iam-simulate (iam-data {shared.version()}): {shared.requests} requests evaluated; "
            f"in simulations {TOTALS['allowed']} allowed, {TOTALS['denied']} denied (each a problem "
            f"of its simulation: mutation and fault tests want them), {TOTALS['denied as expected']} "
            "denied as expected"
        )
