"""What every local HTTP server shares: a loopback `ThreadingHTTPServer` that hands each request to
its `route`, and the one stylesheet and page frame of every HTML page the local stack serves."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = tuple[int, dict[str, str], bytes]  # status, headers, body

# The local stack's one stylesheet: the demo shop and the sandboxes' checkout pages share it.
# Besides plain elements it offers: .primary (the main button; #pay gets it too), .muted, .notice,
# .error, .pill (a status; colour by status word: .pill.paid …), .price, dl.facts, .row, .invalid,
# .money (an input with its currency after it), .num (a right-aligned amount), button.small, button.danger,
# .locale (a label's words in the provider's language, after the English), .id (a long id that may wrap).
PAGE_STYLE = (
    ":root{--ink:#1f2329;--muted:#646a73;--line:#e4e6eb;--bg:#f4f5f7;--brand:#1677ff;--ok:#1a7f37;"
    "--warn:#8a5a00;--bad:#c62828}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    'font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif}'
    "main{max-width:40rem;margin:2.5rem auto;padding:1.75rem 2rem 2rem;background:#fff;"
    "border:1px solid var(--line);border-radius:14px;box-shadow:0 2px 8px rgba(15,23,42,.05)}"
    "h1{font-size:1.55rem;line-height:1.25;margin:.25rem 0 .5rem}h2{font-size:1.05rem;margin:1.75rem 0 .5rem}"
    "p{margin:.6rem 0}a{color:var(--brand)}code{font-size:.9em}"
    ".muted{color:var(--muted);font-size:.9rem}"
    "header.brand{display:flex;align-items:baseline;gap:.75rem;padding-bottom:1rem;margin-bottom:1.25rem;"
    "border-bottom:1px solid var(--line)}"
    "header.brand a{font-weight:700;font-size:1.1rem;color:var(--ink);text-decoration:none}"
    "label{display:block;font-weight:600;font-size:.9rem;margin:1rem 0 .35rem}"
    "input,select{font:inherit;width:100%;padding:.55rem .7rem;border:1px solid #c9cdd4;border-radius:8px;"
    "background:#fff;color:inherit}"
    "input:focus,select:focus{outline:3px solid rgba(22,119,255,.2);border-color:var(--brand)}"
    ".invalid{border-color:var(--bad);background:#fff8f8}"
    ".row{display:flex;gap:.75rem}.row>*{flex:1}"
    "button{font:inherit;font-weight:600;padding:.6rem 1.25rem;margin:.75rem .5rem 0 0;border-radius:8px;"
    "border:1px solid #c9cdd4;background:#fff;color:var(--ink);cursor:pointer}"
    "button:hover{border-color:#9aa1ab}"
    "button.primary,button#pay{background:var(--brand);border-color:var(--brand);color:#fff}"
    "button.primary:hover,button#pay:hover{background:#0f5fd6}"
    ".status{font-size:1.6rem;font-weight:700}.price{font-size:1.55rem;font-weight:700}"
    ".pill{display:inline-block;vertical-align:middle;padding:.2rem .75rem;border-radius:999px;"
    "font-size:.95rem;font-weight:600;background:#eef0f3;color:var(--muted);white-space:nowrap}"
    ".pill.paid{background:#dcf5e3;color:var(--ok)}"
    ".pill.pending,.pill.created,.pill.unknown{background:#fff4cc;color:var(--warn)}"
    ".pill.failed,.pill.charged_back{background:#fde7e7;color:var(--bad)}"
    ".pill.succeeded{background:#dcf5e3;color:var(--ok)}"
    ".pill.refunded,.pill.partially_refunded{background:#e6efff;color:#1d4ed8}"
    "button.danger{color:var(--bad);border-color:#efb8b8}button.danger:hover{background:#fdf1f1}"
    "button.small{font-size:.8rem;padding:.2rem .6rem;margin:.35rem 0 0}"
    ".money{display:flex;align-items:center;gap:.5rem}.money span{color:var(--muted);font-weight:600}"
    ".num{text-align:right;white-space:nowrap}td.num{padding-right:1rem}th.num{padding-right:1rem}"
    ".locale{font-weight:400;opacity:.8;margin-left:.25em}.id{overflow-wrap:anywhere}"
    "ul.flags{margin:0;padding-left:1.1rem}.nowrap{white-space:nowrap}"
    "#refund-form{margin-top:1rem}"
    ".notice{padding:.75rem 1rem;border-radius:8px;background:#eef4ff;border:1px solid #cfe0ff}"
    ".error{padding:.75rem 1rem;border-radius:8px;background:#fdecec;border:1px solid #f5c2c2;color:#7f1d1d}"
    ".error ul{margin:.35rem 0 0;padding-left:1.2rem}"
    "dl.facts{display:grid;grid-template-columns:8rem 1fr;gap:.3rem 1rem;margin:1.25rem 0}"
    "dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}"
    "table{border-collapse:collapse;width:100%;font-size:.875rem}"
    "th{color:var(--muted);font-weight:600}"
    "td,th{border-bottom:1px solid var(--line);padding:.45rem .5rem .45rem 0;text-align:left;"
    "vertical-align:top}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.75rem;border-radius:8px}"
)


def page(title: str, body: str, refresh: int | None = None) -> bytes:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title>{meta}"
        f"<style>{PAGE_STYLE}</style></head><body><main>{body}</main></body></html>"
    ).encode()


# Every browser asks each site for its icon: "no icon", rather than an error in the console.
FAVICON_PATH = "/favicon.ico"
NO_ICON: Response = (204, {}, b"")


def json_response(status: int, value: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


def html_response(body: bytes, status: int = 200) -> Response:
    return status, {"Content-Type": "text/html; charset=utf-8"}, body


class RequestHandler(BaseHTTPRequestHandler):
    """Hands every request to the server's `route` and writes back (status, headers, body)."""

    server: LoopbackServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, a keep-alive client's delayed ACK holds
    # the second ~40 ms on loopback (measured in make bench: 44 ms vs 1.9 ms per sandbox call).
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        method, target, headers, body = self.read_request()
        self.write_response(self.server.route(method, target, headers, body))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def read_request(self) -> tuple[str, str, list[tuple[str, str]], bytes]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(name, value) for name, value in self.headers.items()]
        return self.command, self.path, headers, body

    def write_response(self, response: Response) -> None:
        status, reply_headers, reply_body = response
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply_body)))
        self.end_headers()
        self.wfile.write(reply_body)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(f"{self.command} {self.path.split('?')[0]} -> {args[1] if len(args) > 1 else ''}")


class LoopbackServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 (port 0: one the OS picks); subclasses answer in `route`."""

    daemon_threads = True
    handler: type[RequestHandler] = RequestHandler

    def __init__(self, port: int, log: Callable[[str], None]) -> None:
        super().__init__(("127.0.0.1", port), self.handler)
        self.log = log

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        raise NotImplementedError

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, daemon=True).start()
