"""Write-back (off unless ``userside.writeback``): UserSide changes a comment or the balance.

``change_user_data`` is a GET that changes data (spec §7.6), so besides the key and the allow-list
every change leaves an audit line naming the key's label (``userside.key_label``), the caller's
address, the customer and what changed. Money goes through the host's cash gateway, one ``cash`` row,
so LMS's trigger keeps the balance; a balance operation is a cash operation (type 1, a payment or a
payout), a correction a liability row (type 0, not counted as a payment).

State and tariff changes are not written: ``get_supported_change_user_state`` and
``get_supported_change_user_tariff`` answer empty maps, which tells UserSide there is nothing to offer.
"""

from __future__ import annotations

import logging

from lmsplugins.lms import cash as lms_cash
from lmsplugins.lms.customer_notes import set_notes

from .api import Answer, ApiError, Context, _single, customer_id_arg, empty

audit = logging.getLogger("lmsplugins.audit.userside")

CHANGE_TYPES = ("comment", "balance_operation", "balance_correct_operation")
MAX_COMMENT = 10000


def change_user_data(ctx: Context) -> Answer:
    customer_id = customer_id_arg(ctx.args)
    kind = (ctx.args.get("type") or "").strip()
    if kind not in CHANGE_TYPES:
        raise ApiError(f"type must be one of: {', '.join(CHANGE_TYPES)}")
    if not lms_cash.customer_exists(ctx.conn, customer_id):
        raise ApiError(f"customer {customer_id} does not exist")
    value = ctx.args.get("value") or ""
    comment = (ctx.args.get("comment") or "").strip()[:255]
    label = ctx.settings["userside.key_label"]
    address = ctx.args.get("_address", "")
    if kind == "comment":
        if len(value) > MAX_COMMENT:
            raise ApiError("the comment is too long")
        set_notes(ctx.conn, customer_id, value)
        audit.info(
            "userside key %r from %s: customer %s comment set (%d chars)",
            label,
            address,
            customer_id,
            len(value),
        )
    else:
        try:
            amount = lms_cash.parse_amount(value)
        except ValueError as exc:
            raise ApiError(f"value: {exc}") from None
        type_ = lms_cash.TYPE_CASH if kind == "balance_operation" else lms_cash.TYPE_LIABILITY
        text = comment or ("UserSide" if kind == "balance_operation" else "UserSide: correction")
        cash_id = lms_cash.add_operation(ctx.conn, customer_id, amount, text, type_=type_)
        audit.info(
            "userside key %r from %s: customer %s %s %s (cash #%s)", label, address, customer_id, kind, amount, cash_id
        )
    return _single({"result": "ok"})


WRITE_METHODS = {
    "get_supported_change_user_state": ("states UserSide may set (none)", empty),
    "get_supported_change_user_tariff": ("tariffs UserSide may set (none)", empty),
    "change_user_data": ("comment, balance_operation, balance_correct_operation", change_user_data),
}
WRITES = frozenset({"change_user_data"})
