"""The example notify action: flags a customer's notes as blocked (lms-notify block/unblock)."""

from __future__ import annotations

from collections.abc import Sequence

from .tables import example_notes


def set_flag(conn, customer_ids: Sequence[int], blocked: bool) -> int:
    if not customer_ids:
        return 0
    t = example_notes
    result = conn.execute(
        t.update()
        .where(t.c.customerid.in_(list(customer_ids)), t.c.blocked != int(blocked))
        .values(blocked=int(blocked))
    )
    return result.rowcount or 0
