"""The merchant API's OpenAPI document, generated from the code: routes and API-key requirements from
template.yaml, the request body from the pydantic model (`CreateOrderRequest.model_json_schema()`),
provider names and each provider's capabilities from the registry (`x-provider-capabilities`, and the
`provider` field's description), currencies from the ISO 4217 table. docs/openapi.json is its output,
committed; tests/reliability/test_merchant_api_fuzz.py fails when it is stale and fuzzes the API
against it.

    make openapi                       # rewrite docs/openapi.json (python -m docs.openapi)
    python -m docs.openapi --check     # exit 1 if docs/openapi.json is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "openapi.json"
REF = "#/components/schemas/{model}"


# A listing's page size (GET /events, GET /notifications/rejected).
LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "pattern": "^[0-9]{1,3}$"},
    "description": "1 to 100 (default 50)",
}

# Actions that take no input: nothing, or an empty JSON object.
NO_INPUT = {
    "required": False,
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": False}}},
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _schemas() -> dict[str, Any]:
    from payments.api import CreateOrderRequest, RefundRequest
    from payments.money import CURRENCY_EXPONENTS
    from payments.orders import WALLETS, OrderStatus
    from payments.providers import provider_names
    from payments.providers.capabilities import PAYER_URLS

    request = CreateOrderRequest.model_json_schema(ref_template=REF)
    schemas: dict[str, Any] = request.pop("$defs")
    refund_request = RefundRequest.model_json_schema(ref_template=REF)
    schemas.update(refund_request.pop("$defs"))
    refund_request["properties"]["reason"]["description"] = "plain text: no '<' or '>', no control characters"
    refund_request["properties"]["amount"]["description"] = "default: everything still refundable"
    schemas["RefundRequest"] = refund_request
    # What pydantic cannot see in the validators, stated from the same code.
    request["properties"]["provider"]["enum"] = provider_names()
    request["properties"]["provider"]["description"] = _providers_description()
    schemas["AmountIn"]["properties"]["currency"]["enum"] = sorted(CURRENCY_EXPONENTS)
    for url, use in PAYER_URLS.items():
        request["properties"][url].update(
            {
                "format": "uri",
                "maxLength": 2000,
                "description": (
                    f"https (http only for localhost). Required where the provider {use} "
                    "(payer_urls in x-provider-capabilities); accepted and unused elsewhere"
                ),
            }
        )
    request["properties"]["description"]["description"] = "plain text: no '<' or '>', no control characters"
    request["properties"]["wallet"]["description"] = (
        "what the payer pays with; default: the provider's default_wallet (alipay_cn unless its settings say "
        "otherwise). One the provider does not offer (wallets in x-provider-capabilities) is refused with "
        "422 wallet_not_supported before the provider is called"
    )
    schemas["CreateOrderRequest"] = request
    status = {"type": "string", "enum": [str(value) for value in OrderStatus]}
    money = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "currency"],
        "properties": {"value": {"type": "integer"}, "currency": {"type": "string"}},
    }
    action = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["redirect", "qr_code"]},
            "url": {"type": "string"},
            "method": {"type": "string", "enum": ["GET", "POST"]},
            "form": {"type": "object", "additionalProperties": {"type": "string"}},
            "code": {"type": "string"},
        },
    }
    order_properties = {
        "order_id": {"type": "string"},
        "provider": {"type": "string", "enum": provider_names()},
        "wallet": {"type": "string", "enum": list(WALLETS)},
        "status": status,
        "amount": money,
        "refunded_amount": money,
        "refundable_amount": money,
        "description": {"type": "string"},
        "payment_url": _nullable({"type": "string"}),
        "payment_action": _nullable(action),
        "provider_reference": _nullable({"type": "string"}),
        "flags": {
            "type": "array",
            "items": {"type": "string"},
            "description": "what a person should look at: amount_mismatch, late_payment, …",
        },
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
    }
    schemas["Order"] = {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(order_properties),
        "properties": order_properties,
    }
    refund_status = {"type": "string", "enum": ["pending", "succeeded", "failed", "unknown"]}
    schemas["Refund"] = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "refund_id",
            "order_id",
            "status",
            "amount",
            "reason",
            "origin",
            "provider_reference",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "refund_id": {"type": "string"},
            "order_id": {"type": "string"},
            "status": refund_status,
            "amount": money,
            "reason": _nullable({"type": "string"}),
            "origin": {"type": "string", "enum": ["merchant", "provider"]},
            "provider_reference": _nullable({"type": "string"}),
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    }
    schemas["OrderEvent"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["seq", "type", "at", "source"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "type": {"type": "string"},
            "at": {"type": "string"},
            "source": {"type": "string"},
            "from_status": status,
            "to_status": status,
            "provider_status": {"type": "string"},
            "verified": {"type": "boolean"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "reason": {"type": "string"},
            "refund": {"$ref": REF.format(model="Refund")},
            "occurred_at": {
                "type": "string",
                "description": "when the provider says the money moved, if it says (`at`: when recorded)",
            },
            "payload": {"type": "object"},
        },
    }
    events = {
        "type": "array",
        "items": {"$ref": REF.format(model="OrderEvent")},
        "description": "the newest events (at most 50), oldest first",
    }
    refunds = {"type": "array", "items": {"$ref": REF.format(model="Refund")}}
    cursor = _nullable(
        {"type": "string", "description": "pass as ?events_before= to read the events before these"}
    )
    schemas["OrderWithEvents"] = {
        "type": "object",
        "additionalProperties": False,
        "required": sorted([*order_properties, "refunds", "events", "events_before"]),
        "properties": {**order_properties, "refunds": refunds, "events": events, "events_before": cursor},
    }
    from payments.outbox.merchant_events import EVENT_TYPES

    schemas["MerchantEvent"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "type", "created_at", "order_id", "sequence", "data"],
        "properties": {
            "id": {"type": "string", "description": "unique and stable per change: dedupe by it"},
            "type": {"type": "string", "enum": EVENT_TYPES},
            "created_at": {"type": "string", "format": "date-time"},
            "order_id": {"type": "string"},
            "sequence": {
                "type": "integer",
                "description": "per order, strictly increasing (not contiguous); the same on every delivery",
            },
            "data": {
                "type": "object",
                "required": ["order", "previous_status", "flags"],
                "properties": {
                    "order": {"$ref": REF.format(model="Order")},
                    "previous_status": _nullable(status),
                    "flags": {"type": "array", "items": {"type": "string"}},
                    "refund": {"$ref": REF.format(model="Refund")},
                    "reason": _nullable({"type": "string"}),
                },
            },
        },
    }
    schemas["EventsPage"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["events", "next_after"],
        "properties": {
            "events": {"type": "array", "items": {"$ref": REF.format(model="MerchantEvent")}},
            "next_after": _nullable(
                {"type": "string", "description": "pass as ?after= for the next page (the last id)"}
            ),
        },
    }
    from payments.store.webhook_deliveries import DEAD_LETTERED, DELIVERED, PENDING, RETRYING

    moment = _nullable({"type": "string", "format": "date-time"})
    schemas["WebhookDelivery"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["status", "attempts", "last_error", "last_attempt_at", "delivered_at", "next_try_at"],
        "properties": {
            "status": {
                "type": "string",
                "enum": [PENDING, DELIVERED, RETRYING, DEAD_LETTERED],
                "description": (
                    "where the event's latest webhook delivery stands; pending: not tried yet (being "
                    "published or queued, or no webhook configured)"
                ),
            },
            "attempts": {"type": "integer", "description": "every POST of the event, redeliveries included"},
            "last_error": _nullable(
                {"type": "string", "description": "why the latest failed try failed: HTTP <status>, timeout"}
            ),
            "last_attempt_at": moment,
            "delivered_at": moment,
            "next_try_at": moment,
        },
    }
    event = schemas["MerchantEvent"]
    schemas["MerchantEventDelivery"] = {
        **event,
        "required": [*event["required"], "delivery"],
        "properties": {**event["properties"], "delivery": {"$ref": REF.format(model="WebhookDelivery")}},
    }
    schemas["OrderEvents"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["order_id", "events", "older_omitted"],
        "properties": {
            "order_id": {"type": "string"},
            "events": {"type": "array", "items": {"$ref": REF.format(model="MerchantEventDelivery")}},
            "older_omitted": {
                "type": "boolean",
                "description": "the order has older events than these (its newest 100 are listed)",
            },
        },
    }
    from payments.provider_names import provider_names
    from payments.refusals import CODES

    code = {"type": "string", "enum": list(CODES)}
    schemas["RefusedNotification"] = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "provider",
            "received_at",
            "code",
            "explanation",
            "order_id",
            "source_ip",
            "payload",
        ],
        "properties": {
            "id": {
                "type": "string",
                "description": "replay it with POST /notifications/rejected/{id}/replay",
            },
            "provider": {"type": "string", "enum": provider_names()},
            "received_at": {"type": "string", "format": "date-time"},
            "code": code,
            "explanation": {"type": "string", "description": "what happened, with the fix"},
            "order_id": _nullable({"type": "string", "description": "the order it named (unverified)"}),
            "source_ip": _nullable({"type": "string"}),
            "payload": {
                "type": "object",
                "description": "method, content type and a masked summary of the body (as in order history)",
            },
        },
    }
    schemas["RefusedPage"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["rejected", "next_after"],
        "properties": {
            "rejected": {"type": "array", "items": {"$ref": REF.format(model="RefusedNotification")}},
            "next_after": _nullable(
                {"type": "string", "description": "pass as ?after= for the next (older) page (the last id)"}
            ),
        },
    }
    schemas["ReplayVerdict"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["result", "code", "explanation", "order"],
        "properties": {
            "result": {"type": "string", "enum": ["applied", "duplicate", "refused"]},
            "code": _nullable(code),
            "explanation": _nullable({"type": "string"}),
            "order": _nullable({"$ref": REF.format(model="Order")}),
        },
    }
    check = {
        "type": "object",
        "additionalProperties": False,
        "required": ["check", "status", "message"],
        "properties": {
            "check": {"type": "string"},
            "status": {"type": "string", "enum": ["ok", "warn", "fail"]},
            "message": {"type": "string"},
            "fix": {"type": "string"},
        },
    }
    schemas["Diagnostics"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["checked_at", "providers"],
        "properties": {
            "checked_at": {"type": "string", "format": "date-time"},
            "providers": {
                "type": "object",
                "description": "by provider name: each configured provider's checks",
                "additionalProperties": {"type": "array", "items": check},
            },
        },
    }
    schemas["Error"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                    "message": {"type": "string", "minLength": 1},
                    "field": {"type": "string", "description": "the field to blame, when one is"},
                    "details": {
                        "type": "array",
                        "description": "every invalid field",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["field", "message"],
                            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                        },
                    },
                    "provider_code": {"type": "string"},
                    "provider_message": {"type": "string"},
                },
            }
        },
    }
    schemas.update(operator_schemas())
    return schemas


ERRORS = {
    "400": "malformed_json: not JSON, not an object, or a repeated key",
    "403": "invalid_api_key: missing or wrong x-api-key; route_not_found: no route for this method and "
    "path (answered by API Gateway)",
    "404": "order_not_found, event_not_found, rejected_not_found",
    "410": "request_not_kept: a refused notification's request is kept 7 days (64 KB at most)",
    "413": "request_too_large: a body over 1048576 bytes",
    "429": "rate_limited: API Gateway's throttle",
    "409": "order_id_conflict, request_in_progress, payment_action_unavailable, refund_id_conflict, "
    "order_not_refundable, order_not_cancellable",
    "422": "missing_field, unknown_field, invalid_field, invalid_amount, unknown_currency, "
    "currency_not_supported, amount_over_limit, unknown_provider, provider_not_configured, invalid_url, "
    "html_not_allowed, items_total_mismatch, refund_exceeds_refundable, currency_mismatch, ...",
    "500": "configuration_error: the provider secret does not match its schema; internal_error",
    "502": "provider_rejected (order or refund failed), provider_unavailable, provider_bad_reply, "
    "provider_bad_signature, provider_amount_mismatch, provider_result_unknown (order or refund unknown); "
    "internal_error: the function failed",
    "503": "store_unavailable: DynamoDB throttled after retries; nothing was written, retry",
    "504": "provider_timeout: order unknown; retry the same request; internal_error: no answer within "
    "API Gateway's 29 s",
}


REFUNDS_REPORTED = {
    "event_per_refund": "a signed notification per refund",
    "order_refunded_total": "the order's refunded total, in its notifications and status",
    "when_asked": "only in the reply to the refund request",
}


def provider_capabilities() -> dict[str, Any]:
    """Every registered provider's documented capabilities (`x-provider-capabilities`), by name."""
    from payments.providers import provider_class, provider_names

    return {
        name: {"label": provider_class(name).label, **provider_class(name).documented_capabilities.to_json()}
        for name in provider_names()
    }


def _providers_description() -> str:
    """What each provider takes, in words: a line per provider of `x-provider-capabilities`."""
    lines = [
        "What each provider takes (documented defaults; x-provider-capabilities has them as data). "
        "A request outside them is refused with 422 before the provider is called."
    ]
    for name, caps in provider_capabilities().items():
        currencies = caps["currencies"]
        parts = [
            "currencies: " + ("any" if currencies == "any" else ", ".join(currencies)),
            "amount.value: "
            + ("no limit of its own" if caps["max_amount"] is None else f"at most {caps['max_amount']}"),
            "expires_in_seconds: "
            + ("" if caps["max_expiry_seconds"] is None else f"at most {caps['max_expiry_seconds']}, ")
            + f"default {caps['default_expiry_seconds']}",
            "terminal_type: " + ", ".join(caps["terminal_types"]),
        ]
        if caps["payer_urls"]:
            parts.append("asks for " + " and ".join(caps["payer_urls"]))
        if caps["required_customer_fields"]:
            parts.append("requires " + ", ".join(f"customer.{f}" for f in caps["required_customer_fields"]))
        parts.append(f"wallets: {', '.join(caps['wallets'])} (default {caps['default_wallet']})")
        parts.append("cancels unpaid orders" if caps["cancels_unpaid_orders"] else "no cancel call")
        parts.append("refunds reported: " + REFUNDS_REPORTED[caps["refunds_reported"]])
        if caps["set_by_settings"]:
            parts.append("set by the merchant's settings: " + ", ".join(caps["set_by_settings"]))
        lines.append(f"- `{name}` ({caps['label']}): " + "; ".join(parts) + ".")
    return "\n".join(lines)


# What API Gateway may answer on any route (template.yaml, GatewayResponses), in the same shape.
ANY_ROUTE = ["403", "413", "429", "500", "502", "504"]


def _responses(ok: dict[str, Any], statuses: list[str]) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
    responses: dict[str, Any] = dict(ok)
    for status in sorted({*statuses, *ANY_ROUTE}):
        responses[status] = {"description": ERRORS[status], "content": error}
    return responses


def document() -> dict[str, Any]:
    from local.template import Template
    from payments.provider_names import provider_names

    routes = {
        (route.method.lower(), route.path): route
        for spec in Template().functions()
        for route in spec.routes
        if route.path.startswith(("/orders", "/events", "/reports", "/notifications", "/diagnostics"))
    }
    order = {"application/json": {"schema": {"$ref": REF.format(model="Order")}}}
    refund = {"application/json": {"schema": {"$ref": REF.format(model="Refund")}}}
    order_id = {
        "name": "order_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,50}$"},
    }
    operations: dict[tuple[str, str], dict[str, Any]] = {
        ("get", "/events"): {
            "operationId": "listEvents",
            "summary": "Merchant events, oldest first: catch up on what you missed",
            "description": (
                "Events in the order they were stored, listed once they are two minutes old (an "
                "event stored late still comes after the cursor you hold). Paging on with next_after "
                "gives every event exactly once. Kept for 30 days."
            ),
            "parameters": [
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^evt_[0-9TZ]{15,30}_[0-9a-f]{16}$"},
                    "description": (
                        "the id of the last event you have (next_after of the last page); "
                        "422 if no such event is kept"
                    ),
                },
                LIMIT,
            ],
            "responses": _responses(
                {
                    "200": {
                        "description": "a page of events",
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="EventsPage")}}},
                    }
                },
                ["403", "422", "503"],
            ),
        },
        ("post", "/events/{event_id}/redeliver"): {
            "operationId": "redeliverEvent",
            "summary": "Send one event again (EventBridge bus and webhook)",
            "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": _responses(
                {
                    "202": {
                        "description": "sent again",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["redelivered"],
                                    "properties": {
                                        "redelivered": {"$ref": REF.format(model="MerchantEvent")}
                                    },
                                }
                            }
                        },
                    }
                },
                ["400", "403", "404", "422", "503"],
            ),
        },
        ("get", "/orders/{order_id}/events"): {
            "operationId": "listOrderEvents",
            "summary": "An order's merchant events, in sequence, each with its webhook delivery status",
            "description": (
                "Computed from the order's history as they are published (listed at once, before "
                "they are delivered); each with its latest webhook delivery: delivered, retrying (with "
                "when it is tried next), dead_lettered (redeliver it), or pending."
            ),
            "parameters": [order_id],
            "responses": _responses(
                {
                    "200": {
                        "description": "the order's events",
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="OrderEvents")}}
                        },
                    }
                },
                ["403", "404", "503"],
            ),
        },
        ("get", "/notifications/rejected"): {
            "operationId": "listRefusedNotifications",
            "summary": "Provider notifications refused in the last 7 days, newest first, each with why",
            "description": (
                "Each refusal's code and explanation (with the fix), the order it named, where it came "
                "from and a masked summary of its body; the request itself is kept 7 days for a replay "
                "and never listed. Paged like GET /events."
            ),
            "parameters": [
                {
                    "name": "provider",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": provider_names()},
                },
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "pattern": "^rej_[0-9]{8}T[0-9]{12}_[0-9a-f]{8}_[a-z0-9_]{1,40}$",
                    },
                    "description": "the id of the last refusal you have (next_after of the last page)",
                },
                LIMIT,
            ],
            "responses": _responses(
                {
                    "200": {
                        "description": "a page of refused notifications",
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="RefusedPage")}}
                        },
                    }
                },
                ["403", "422", "503"],
            ),
        },
        ("post", "/notifications/rejected/{attempt_id}/replay"): {
            "operationId": "replayRefusedNotification",
            "summary": "Run a refused notification again, through today's configuration and checks",
            "description": (
                "Exactly as if the provider sent it again: verified with today's settings, then the same "
                "checks as any notification. Applies only what a fresh delivery would; a refusal is "
                "answered with its code, and not listed again."
            ),
            "parameters": [
                {"name": "attempt_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": NO_INPUT,
            "responses": _responses(
                {
                    "200": {
                        "description": "applied, duplicate (nothing changed) or refused, with why",
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="ReplayVerdict")}}
                        },
                    }
                },
                ["400", "403", "404", "410", "422", "500", "503"],
            ),
        },
        ("get", "/diagnostics"): {
            "operationId": "diagnostics",
            "summary": "Each configured provider's settings checked, and checked against the provider",
            "description": (
                "Keys and their sizes (the provider's key is not your own), the signing scheme, sandbox "
                "or live, one harmless signed status query of an order id that cannot exist (the "
                "provider's answer named), the clock against the provider's, the notification URL the "
                "provider is given, the last accepted and refused notification. A fail comes with its fix."
            ),
            "responses": _responses(
                {
                    "200": {
                        "description": "the checks, by provider",
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="Diagnostics")}}
                        },
                    }
                },
                ["403", "500", "503"],
            ),
        },
        ("post", "/orders/{order_id}/refunds"): {
            "operationId": "refundOrder",
            "summary": "Refund all or part of a paid order (idempotent by order_id and refund_id)",
            "parameters": [order_id],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model="RefundRequest")}}},
            },
            "responses": _responses(
                {
                    "201": {
                        "description": "the refund: pending, succeeded, failed or unknown",
                        "content": refund,
                    },
                    "200": {"description": "the same request again: the same refund", "content": refund},
                },
                ["400", "403", "404", "409", "422", "500", "502", "503", "504"],
            ),
        },
        ("post", "/orders/{order_id}/sync"): {
            "operationId": "syncOrder",
            "summary": "Ask the provider about the order now; the order as it then stands",
            "description": (
                "What the scheduled reconciliation does for due work, at once: the provider's answer "
                "goes through the same checks as a notification and is recorded with source sync. A "
                "final order without refunds in flight is answered as it is, without a provider call."
            ),
            "parameters": [order_id],
            "requestBody": NO_INPUT,
            "responses": _responses(
                {"200": {"description": "the order", "content": order}},
                ["400", "403", "404", "409", "422", "500", "502", "503", "504"],
            ),
        },
        ("post", "/orders/{order_id}/cancel"): {
            "operationId": "cancelOrder",
            "summary": "Withdraw an unpaid order (created, pending or unknown) at the provider and cancel it",
            "parameters": [order_id],
            "requestBody": NO_INPUT,
            "responses": _responses(
                {"200": {"description": "the order, cancelled", "content": order}},
                ["400", "403", "404", "409", "422", "500", "502", "503", "504"],
            ),
        },
        ("post", "/orders"): {
            "operationId": "createOrder",
            "summary": "Create an Alipay payment (idempotent by order_id)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model="CreateOrderRequest")}}},
            },
            "responses": _responses(
                {
                    "201": {"description": "created", "content": order},
                    "200": {"description": "the same request again: the same order", "content": order},
                },
                ["400", "403", "409", "422", "500", "502", "503", "504"],
            ),
        },
        ("get", "/orders/{order_id}"): {
            "operationId": "getOrder",
            "summary": "The order, its refunds and its newest events (verified facts only)",
            "parameters": [
                {
                    "name": "order_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,50}$"},
                },
                {
                    "name": "events_before",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
                    "description": "the events_before of an earlier answer: the page of events before it",
                },
            ],
            "responses": _responses(
                {
                    "200": {
                        "description": "the order",
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="OrderWithEvents")}}
                        },
                    }
                },
                ["403", "404", "422", "503"],
            ),
        },
    }
    operations.update(operator_operations(_responses))
    paths: dict[str, Any] = {}
    for (method, path), operation in sorted(operations.items()):
        route = routes[(method, path)]  # KeyError: the template no longer has this route
        if route.api_key_required:
            operation["security"] = [{"apiKey": []}]
        paths.setdefault(path, {})[method] = operation
    if set(routes) != set(operations):
        raise ValueError(
            f"merchant routes of template.yaml not documented: {sorted(set(routes) - set(operations))}"
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Alipay payments bundle: merchant API",
            "version": "1",
            "description": (
                "Generated by docs/openapi.py from template.yaml and payments.api. "
                "x-provider-capabilities: what each provider takes and how it behaves, by provider name "
                "(its documented defaults; values in set_by_settings come from the merchant's settings)."
            ),
        },
        "x-provider-capabilities": provider_capabilities(),
        "servers": [{"url": "https://{api_id}.execute-api.{region}.amazonaws.com/v1"}],
        "paths": paths,
        "webhooks": {"merchantEvent": {"post": _webhook()}},
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
            "schemas": _schemas(),
        },
    }


def _webhook() -> dict[str, Any]:
    """What we POST to the merchant's WebhookUrl (template parameter) for every event."""
    return {
        "operationId": "receiveMerchantEvent",
        "summary": "Every committed change of an order, signed (your endpoint; parameter WebhookUrl)",
        "description": (
            "At least once, one order's events in sequence: dedupe by id. Check the signature over the "
            "raw body before parsing it: v1 = hex HMAC-SHA256(secret, '<t>.<raw body>'), the secret "
            "being output WebhookSigningSecretArn's value; refuse a t more than 300 s from now. Answer "
            "2xx within 10 s; anything else is retried with a backoff doubling from 30 s for 24 hours, "
            "then dead-lettered, and the order's next event follows."
        ),
        "parameters": [
            {
                "name": "Payments-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"},
                "description": "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, '<t>.<raw body>')>",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="MerchantEvent")}}},
        },
        "responses": {
            "2XX": {"description": "received: not sent again"},
            "default": {"description": "not received: sent again later, the order's later events held back"},
        },
    }


# -- the operator's routes: finding orders, the daily money report --------------------------------
def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or {"type": "string"},
        "description": description,
    }


def operator_schemas() -> dict[str, Any]:
    from payments.movements import MOVEMENT_TYPES
    from payments.order_search import FLAG_NOTES

    amount = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "currency"],
        "properties": {
            "value": {"type": "integer", "description": "minor units"},
            "currency": {"type": "string"},
        },
    }
    return {
        "OrderSummary": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "order_id",
                "provider",
                "wallet",
                "status",
                "amount",
                "refunded_amount",
                "flags",
                "created_at",
                "updated_at",
            ],
            "properties": {
                "order_id": {"type": "string"},
                "provider": {"type": "string"},
                "wallet": _nullable({"type": "string"}),
                "status": {"type": "string"},
                "amount": amount,
                "refunded_amount": amount,
                "flags": {"type": "array", "items": {"type": "string", "enum": sorted(FLAG_NOTES)}},
                "created_at": {"type": "string"},
                "updated_at": {"type": "string"},
            },
        },
        "DailyReport": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "date",
                "time_zone",
                "from",
                "to",
                "final",
                "changes",
                "late_facts",
                "lines",
                "totals",
            ],
            "properties": {
                "date": {"type": "string", "format": "date"},
                "time_zone": {"type": "string"},
                "from": {"type": "string", "description": "the day's start in the time zone"},
                "to": {"type": "string", "description": "the next day's start (not included)"},
                "final": {
                    "type": "boolean",
                    "description": "the day ended more than 10 minutes ago: from then on only a late fact "
                    "for the day adds a line",
                },
                "changes": {
                    "type": "string",
                    "description": "in words: whether the report may still change, and how",
                },
                "late_facts": {
                    "type": "integer",
                    "description": "lines recorded after the report became final (late: true)",
                },
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "time",
                            "recorded_at",
                            "order_id",
                            "provider",
                            "provider_reference",
                            "wallet",
                            "type",
                            "amount",
                            "late",
                        ],
                        "properties": {
                            "time": {
                                "type": "string",
                                "description": "when the money moved, ISO 8601 in the time zone asked: the "
                                "provider's time when it states one, else when the fact was recorded",
                            },
                            "recorded_at": {
                                "type": "string",
                                "description": "when the fact was recorded, ISO 8601 in the time zone asked",
                            },
                            "order_id": {"type": "string"},
                            "provider": {"type": "string"},
                            "provider_reference": _nullable({"type": "string"}),
                            "wallet": _nullable({"type": "string"}),
                            "type": {"type": "string", "enum": list(MOVEMENT_TYPES)},
                            "amount": amount,
                            "late": {
                                "type": "boolean",
                                "description": "recorded after the day had ended and settled (10 minutes)",
                            },
                        },
                    },
                },
                "totals": {
                    "type": "array",
                    "description": "per provider and currency, in minor units: net = gross_paid - refunded - "
                    "charged_back",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "provider",
                            "currency",
                            "gross_paid",
                            "refunded",
                            "charged_back",
                            "net",
                            "lines",
                        ],
                        "properties": {
                            "provider": {"type": "string"},
                            "currency": {"type": "string"},
                            "gross_paid": {"type": "integer"},
                            "refunded": {"type": "integer"},
                            "charged_back": {"type": "integer"},
                            "net": {"type": "integer"},
                            "lines": {"type": "integer"},
                        },
                    },
                },
            },
        },
        "OrdersPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["orders", "next_after", "flag_notes"],
            "properties": {
                "orders": {"type": "array", "items": {"$ref": REF.format(model="OrderSummary")}},
                "next_after": _nullable(
                    {"type": "string", "description": "pass as ?after= for the next page; null at the end"}
                ),
                "flag_notes": {
                    "type": "object",
                    "description": "what each flag on this page means and what to do about it",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
    }


def operator_operations(responses: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """`responses(ok, statuses)`: docs/openapi.py's response block with the error shape."""
    from payments.order_search import DEFAULT_LIMIT, FLAG_NOTES, MAX_LIMIT
    from payments.orders import OrderStatus
    from payments.provider_names import provider_names

    return {
        ("get", "/reports/daily"): {
            "operationId": "dailyReport",
            "summary": "A day's money: every payment, late payment, refund and chargeback, and the totals",
            "description": (
                "One line per money movement of the day (midnight to midnight in time_zone), by the "
                "provider's time of it when the provider states one, else by when it was recorded; "
                "from the audit events written with each change; totals per provider and currency. "
                "A fact recorded after the day settled is a late line, counted in late_facts. "
                "format=csv: a header row, ISO times, amounts in major units with the currency's "
                "decimals, UTF-8."
            ),
            "parameters": [
                {
                    "name": "date",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "format": "date"},
                    "description": "YYYY-MM-DD",
                },
                _query("time_zone", "an IANA time zone (default UTC)"),
                _query("format", "json (default) or csv", {"type": "string", "enum": ["json", "csv"]}),
            ],
            "responses": responses(
                {
                    "200": {
                        "description": "the report",
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="DailyReport")}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    }
                },
                ["403", "422", "503"],
            ),
        },
        ("get", "/orders"): {
            "operationId": "findOrders",
            "summary": "Find orders: newest first, by status, flag, provider, creation time or an exact id",
            "description": (
                "Each filter combination is one bounded read of an index made for it (no scan at any "
                "size). Paging on with next_after lists every order that existed when the first page "
                "was read exactly once. With q, the orders it names (order id, provider reference or "
                "refund id), filtered by the rest, in one page."
            ),
            "parameters": [
                _query(
                    "status", "the order's status", {"type": "string", "enum": [str(s) for s in OrderStatus]}
                ),
                _query(
                    "flag",
                    "orders carrying this flag; any: every flagged order",
                    {"type": "string", "enum": ["any", *sorted(FLAG_NOTES)]},
                ),
                _query("provider", "the order's provider", {"type": "string", "enum": provider_names()}),
                _query("created_from", "RFC 3339 time with offset: created at or after it"),
                _query("created_to", "RFC 3339 time with offset: created at or before it"),
                _query(
                    "q",
                    "an exact order id, provider reference or refund id",
                    {"type": "string", "maxLength": 200},
                ),
                _query(
                    "limit",
                    f"1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
                    {"type": "string", "pattern": "^[0-9]{1,3}$"},
                ),
                _query("after", "next_after of the page before"),
            ],
            "responses": responses(
                {
                    "200": {
                        "description": "a page of orders",
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="OrdersPage")}}},
                    }
                },
                ["403", "422", "503"],
            ),
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC_PATH.exists() or DOC_PATH.read_text() != text:
            print(
                f"{DOC_PATH.relative_to(ROOT)} is stale: run make openapi",
                file=sys.stderr,
            )
            return 1
        return 0
    DOC_PATH.parent.mkdir(exist_ok=True)
    DOC_PATH.write_text(text)
    print(f"wrote {DOC_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers" / "payments"), str(ROOT)]
    sys.exit(main(sys.argv[1:]))
