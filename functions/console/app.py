"""GET /console (public): the operator's console, a page and its script and style that hold no data.
The page asks for the API key (kept in the browser's session only) and calls the API like any client.
Strict Content-Security-Policy: scripts, styles and requests from this origin only, nothing inline."""

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.errors import NotFound
from payments.money import CURRENCY_EXPONENTS
from payments.order_search import FLAG_NOTES
from payments.orders import OrderStatus
from payments.provider_names import provider_names
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
STATIC = Path(__file__).resolve().parent / "static"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@cache
def assets() -> dict[str, str]:
    """The script and style by name, and the words the console needs from the code (statuses,
    flags and what they mean, providers, currency decimals) as a script of its own."""
    files = {path.name: path.read_text(encoding="utf-8") for path in STATIC.iterdir() if path.suffix in TYPES}
    words = {
        "statuses": [str(status) for status in OrderStatus],
        "flags": FLAG_NOTES,
        "providers": provider_names(),
        "exponents": CURRENCY_EXPONENTS,
    }
    files["words.js"] = f"window.CONSOLE_WORDS = {json.dumps(words, sort_keys=True)};\n"
    return files


def fingerprint(name: str) -> str:
    """`name?v=<hash of its content>`: cached for a year, and a new release's page asks for the new one."""
    return f"{name}?v={hashlib.sha256(assets()[name].encode()).hexdigest()[:16]}"


@cache
def page() -> str:
    text = (STATIC / "index.html").read_text(encoding="utf-8")
    for name in ("words.js", "console.js", "console.css"):
        text = text.replace(f"{{{name}}}", "console/" + fingerprint(name))
    return text


@app.get("/console")
def console_page() -> Response[str]:
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}  # always the release's page
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page(), headers=headers)


@app.get("/console/<asset>")
def console_asset(asset: str) -> Response[str]:
    body = assets().get(asset)
    if body is None:
        raise NotFound("no such file", code="not_found")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
    return Response(status_code=200, content_type=TYPES[Path(asset).suffix], body=body, headers=headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
