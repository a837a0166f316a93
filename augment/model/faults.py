"""What a failed model request means, read from litellm's exception: the
server could not be reached, it refused this one request (a 4xx about it:
context length, content policy), every request would fail (a wrong key, URL
or model), or it is worth trying again (429, 5xx, timeouts)."""

from __future__ import annotations

import re
import socket
from typing import Any

from augment.model.endpoints import missing_v1_hint
from augment.model.settings import scrub


def classify(exc: Exception, lib: Any, where: str, api_base: str | None, unreachable: bool) -> tuple[str, str]:
    """``(kind, reason)``: ``unreachable`` (nothing listens: the server never
    saw it), ``refused`` (a 4xx about this request), ``fatal`` (a wrong key,
    URL or model) or ``transient``. ``lib`` is litellm, ``where`` names the
    model and its endpoint(s) for messages."""
    reason = scrub(_short(exc))
    if unreachable:
        return "unreachable", reason
    status = getattr(exc, "status_code", None)
    try:
        status = int(status) if status is not None else None
    except (TypeError, ValueError):
        status = None
    if isinstance(exc, lib.AuthenticationError) or status == 401:
        return "fatal", f"{where}: the server refused the key ({reason}); give the key's variable with --api-key-env"
    if isinstance(exc, lib.NotFoundError) or status == 404:
        return "fatal", f"{where}: {reason}{missing_v1_hint(api_base)}"
    if isinstance(exc, (lib.RateLimitError, lib.Timeout)) or status in (408, 409, 429):
        return "transient", reason
    if status == 403 and not re.search(r"content|policy|safety|moderat|flagged|filter", reason, re.I):
        return "fatal", f"{where}: permission denied ({reason})"
    if status is not None and 400 <= status < 500:
        return "refused", f"{status}: {_server_message(reason)}"
    if isinstance(exc, (lib.BadRequestError, lib.ContentPolicyViolationError)):
        return "refused", _server_message(reason)
    return "transient", reason


def _cannot_connect(exc: BaseException) -> bool:
    """True when nothing answered at the address: refused, no such host, no route."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 12:
        if isinstance(current, (ConnectionRefusedError, socket.gaierror)):
            return True
        name = type(current).__name__
        if name in ("ClientConnectorError", "ClientConnectorDNSError", "ConnectError") and "timeout" not in str(current).lower():
            return True
        if isinstance(current, OSError) and current.errno in (111, 113, 101, 99):  # refused, no route, unreachable
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _server_message(reason: str) -> str:
    """The server's words in one of litellm's messages (the class names before them dropped)."""
    text = reason.split(" - ", 1)[1] if " - " in reason else reason
    return text.strip()[:300]


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:400]
