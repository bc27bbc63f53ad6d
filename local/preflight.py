"""What `make dev` checks before it builds or starts anything, so that a bad setting fails in seconds
with one line naming the problem and the way out, instead of a traceback minutes later.

Standard library only: the Makefile runs it with the bare Python 3.12, before any virtualenv exists.
`python -m local.preflight --port 3000` exits 2 with the reason on stderr when something is wrong.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import socket
import sys
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
DEFAULT_PORT = 3000
# Like an API Gateway key (20-128 characters), and safe to paste into a shell or a header.
API_KEY_PATTERN = re.compile(r"[A-Za-z0-9._~-]{20,128}")


class PreflightError(Exception):
    """A setting that would make the local stack fail: the message is the whole explanation."""


def parse_port(text: str, source: str = "PORT") -> int:
    try:
        port = int(text)
    except ValueError:
        raise PreflightError(f"{source}={text!r} is not a port number: try PORT=3001 make dev") from None
    if not 1 <= port <= 65535:
        raise PreflightError(f"{source}={port} is out of range (1-65535): try PORT=3001 make dev")
    return port


def bind_listener(port: int, host: str = HOST) -> socket.socket:
    """A socket bound to (host, port) the way http.server binds (SO_REUSEADDR), or PreflightError."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise port_error(port, exc, host) from None
    return sock


def port_error(port: int, exc: OSError, host: str = HOST) -> PreflightError:
    """The one-line reason a bind on `port` failed, with a port that is free right now."""
    if exc.errno == errno.EADDRINUSE:
        return PreflightError(
            f"port {port} on {host} is already in use (another `make dev`?); "
            f"pick another: PORT={_free_port_after(port, host)} make dev"
        )
    if exc.errno == errno.EACCES:
        return PreflightError(
            f"not allowed to listen on port {port} (ports below 1024 need root); "
            f"pick another: PORT={_free_port_after(max(port, 3000) - 1, host)} make dev"
        )
    return PreflightError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); try PORT=3001 make dev")


def ensure_port_free(port: int, host: str = HOST) -> None:
    bind_listener(port, host).close()


def _free_port_after(port: int, host: str) -> int:
    for candidate in range(port + 1, min(port + 50, 65535) + 1):
        try:
            ensure_port_free(candidate, host)
        except PreflightError:
            continue
        return candidate
    return port + 1


def check_api_key(value: str | None) -> str | None:
    """LOCAL_API_KEY, when set: the key the local API gateway accepts, the same on every run."""
    if value is None or value == "":
        return None
    if not API_KEY_PATTERN.fullmatch(value):
        # Never echo the value: it is a credential, even if only a local one.
        raise PreflightError(
            f"LOCAL_API_KEY must be 20-128 letters, digits or . _ ~ - (it has {len(value)} characters); "
            "e.g. LOCAL_API_KEY=local-dev-key-0123456789 make dev"
        )
    return value


def check_providers_file(path: Path | None) -> dict[str, dict[str, Any]] | None:
    """PROVIDERS_FILE, when set: a JSON object like the provider secret, one entry per provider."""
    if path is None:
        return None
    try:
        value = json.loads(path.read_text())
    except OSError as exc:
        raise PreflightError(f"PROVIDERS_FILE={path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError alike
        raise PreflightError(f"PROVIDERS_FILE={path} is not valid JSON ({exc})") from None
    if not isinstance(value, dict) or not all(isinstance(entry, dict) for entry in value.values()):
        raise PreflightError(
            f'PROVIDERS_FILE={path} must be a JSON object of provider entries, like {{"<provider>": {{…}}}}'
        )
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", default=os.environ.get("PORT") or str(DEFAULT_PORT))
    args = parser.parse_args(argv)
    try:
        ensure_port_free(parse_port(args.port))
        check_api_key(os.environ.get("LOCAL_API_KEY"))
        providers = os.environ.get("PROVIDERS_FILE")
        check_providers_file(Path(providers) if providers else None)
    except PreflightError as exc:
        print(f"make dev: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
