"""GET /orders: the operator finds orders by status, flag, provider, creation time, or an exact id
(order id, provider reference, refund id). Each filter combination is one bounded read of an index
made for it (payments/store/order_listing.py); this module checks the query and shapes the answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from payments.clock import iso
from payments.errors import ValidationFailed
from payments.money import Money
from payments.orders import ORDER_ID_RE, Order, OrderStatus
from payments.provider_names import provider_names
from payments.store.order_listing import ANY_FLAG, OrderFilter, OrderListing
from payments.store.orders import OrdersStore

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_QUERY_CHARS = 200
FILTERS = ("status", "flag", "provider", "created_from", "created_to", "q", "limit", "after")

# Every flag an order can carry, what it means and what a person does about it (the console shows
# these; tests/unit/test_order_search.py holds the list to the flags the code sets).
FLAG_NOTES: dict[str, str] = {
    "needs_attention": "Still open after seven days of checks with the provider: no longer checked "
    "automatically. Look it up in the provider's dashboard, then sync or cancel it.",
    "late_payment": "Paid after it had expired, failed or been cancelled here. Ship the goods or "
    "refund the payer.",
    "amount_mismatch": "The provider stated another amount or currency than the order's: not applied. "
    "Compare with the provider's dashboard and settle the difference with the payer.",
    "amount_missing": "A payment was reported without its amount: not applied. Sync the order; a "
    "query's answer with our amount is applied.",
    "currency_mismatch": "A refund or chargeback in another currency than the order's: not applied. "
    "Check it in the provider's dashboard.",
    "foreign_statement": "A provider statement naming another order, or from another provider, reached "
    "this order: not applied. Check the provider settings (notify URL, merchant account).",
    "payment_unverified": "A refund or chargeback of an order held unpaid, with no verified payment "
    "amount: not applied. Sync the order to learn whether it was paid.",
    "refund_before_payment": "A refund proved the payment of an order held unpaid: the payment was "
    "recorded first. Check the goods and the refund match.",
    "chargeback_before_payment": "A chargeback proved the payment of an order held unpaid: the payment "
    "was recorded first. Answer the dispute in the provider's dashboard.",
    "refund_amount_mismatch": "The provider reported a refund with another amount than ours: not "
    "applied. Compare the refunds with the provider's dashboard.",
    "refund_conflict": "The provider reported a refund's outcome against one it gave before: not "
    "applied. Compare the refunds with the provider's dashboard.",
    "refund_exceeds_amount": "The provider reported refunds above what was paid: not applied. Compare "
    "the refunds with the provider's dashboard.",
    "refund_status_unknown": "A refund's outcome is still unknown after seven days of checks. Look it "
    "up in the provider's dashboard.",
    "refund_total_decreased": "The provider's refunded total went down: not applied. Compare the "
    "refunds with the provider's dashboard.",
}
_STATUSES = {str(status) for status in OrderStatus}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", field=field, code="invalid_field")


def _time(field: str, text: str) -> str:
    """An RFC 3339 time with its offset, as the store writes times (UTC, fixed width)."""
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        utc = None
    # Years of four digits only: stored times are compared as fixed-width text.
    if utc is None or "T" not in text.upper() or not 1000 <= utc.year <= 9998:
        raise _invalid(field, "must be an RFC 3339 time with its offset, e.g. 2026-12-01T00:00:00Z")
    return iso(utc)


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def _after(text: str | None) -> str | None:
    """A page's cursor: the `<created_at>#<order_id>` of its last order, as next_after gave it."""
    if text is None:
        return None
    created, _, order_id = text.partition("#")
    try:
        well_formed = _time("after", created) == created and bool(ORDER_ID_RE.match(order_id))
    except ValidationFailed:
        well_formed = False
    if not well_formed:
        raise _invalid("after", "must be the next_after value of an earlier page")
    return text


def parse_filters(query: Mapping[str, str]) -> tuple[OrderFilter, str | None, int, str | None]:
    """The filters, the search text (q), the page size and the cursor of a GET /orders query string.
    Anything unknown or malformed is a 422 naming the field."""
    unknown = sorted(set(query) - set(FILTERS))
    if unknown:
        raise _invalid(unknown[0][:40], f"not a filter; use {', '.join(FILTERS)}")
    status, flag, provider = query.get("status"), query.get("flag"), query.get("provider")
    if status is not None and status not in _STATUSES:
        raise _invalid("status", f"must be one of {', '.join(sorted(_STATUSES))}")
    if flag is not None and flag not in FLAG_NOTES and flag != ANY_FLAG:
        raise _invalid("flag", f"must be {ANY_FLAG} or one of {', '.join(sorted(FLAG_NOTES))}")
    if provider is not None and provider not in provider_names():
        raise _invalid("provider", f"must be one of {', '.join(provider_names())}")
    created_from = _time("created_from", query["created_from"]) if "created_from" in query else None
    created_to = _time("created_to", query["created_to"]) if "created_to" in query else None
    if created_from and created_to and created_from > created_to:
        raise _invalid("created_to", "must not be before created_from")
    text = query.get("q")
    if text is not None and (not 1 <= len(text) <= MAX_QUERY_CHARS or not text.isprintable()):
        raise _invalid("q", f"must be 1 to {MAX_QUERY_CHARS} printable characters")
    filters = OrderFilter(status, flag, provider, created_from, created_to)
    return filters, text, _limit(query.get("limit")), _after(query.get("after"))


def summary(item: Mapping[str, Any]) -> dict[str, Any]:
    """An order as a list shows it, from its item or an index's projection of it."""
    currency = str(item["currency"])
    return {
        "order_id": item["order_id"],
        "provider": item["provider"],
        "wallet": item.get("wallet"),
        "status": item["status"],
        "amount": Money(int(item["amount_value"]), currency).to_dict(),
        "refunded_amount": Money(int(item.get("refunded_value", 0)), currency).to_dict(),
        "flags": sorted(item.get("flags") or ()),
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }


def find_orders(listing: OrderListing, orders: OrdersStore, query: Mapping[str, str]) -> dict[str, Any]:
    """GET /orders: a page of order summaries, newest first, and `next_after` for the next page (null
    at the end, and for a search by q, whose matches are one page)."""
    filters, text, limit, after = parse_filters(query)
    if text is not None:
        items = [item for item in _matches(listing, orders, text) if filters.admits(item)]
        page, next_after = items[:limit], None
    else:
        page = listing.page(filters, limit, after)
        next_after = str(page[-1]["list_sk"]) if len(page) == limit else None
    summaries = [summary(item) for item in page]
    flags = sorted({flag for order in summaries for flag in order["flags"]})
    return {
        "orders": summaries,
        "next_after": next_after,
        "flag_notes": {flag: FLAG_NOTES.get(flag, "") for flag in flags},
    }


def _matches(listing: OrderListing, orders: OrdersStore, text: str) -> list[dict[str, Any]]:
    """The orders `text` names exactly (order id, provider reference, refund id), newest first."""
    order_ids = ([text] if ORDER_ID_RE.match(text) else []) + listing.lookup(text)
    found = [orders.get(order_id) for order_id in dict.fromkeys(order_ids)]
    items = [_fields(order) for order in found if order is not None]
    return sorted(items, key=lambda item: (str(item["created_at"]), str(item["order_id"])), reverse=True)


def _fields(order: Order) -> dict[str, Any]:
    """An order's summary fields, named as its item names them."""
    return {
        "order_id": order.order_id,
        "provider": order.provider,
        "wallet": order.wallet,
        "status": str(order.status),
        "amount_value": order.amount.value,
        "currency": order.amount.currency,
        "refunded_value": order.refunded_value,
        "flags": order.flags,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
