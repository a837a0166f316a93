"""Where requests go, and which key goes with them.

A run talks to one endpoint (``--api-base``, or the provider's own when none
is given), to several (``--api-base`` repeated: litellm's Router balances
them and cools down one that fails), or to the deployments of a litellm
Router config (``--router-config FILE``).

A key is sent only to the endpoint it was given for: with a custom API base,
only the variable named by ``--api-key-env`` (or in the Router config as
``os.environ/NAME``) is read, never the provider's default variable
(``OPENAI_API_KEY`` would otherwise go to whatever server ``--api-base``
names). Without an API base, litellm reads the provider's usual variable for
the provider's own endpoint.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from augment.errors import UsageError

#: Sent to a custom server when no key is named: OpenAI clients refuse to send
#: no key at all, and local servers (vLLM, llama.cpp, Ollama) accept any.
NO_KEY = "no-key"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
DEFAULT_PORTS = {"http": 80, "https": 443}
ENV_PREFIX = "os.environ/"


@dataclass(frozen=True)
class Deployment:
    """One endpoint serving the run's model."""

    #: The litellm model string (``openai/NAME``, ``anthropic/...``).
    model: str
    api_base: str | None = None
    #: The environment variable holding this endpoint's key (None: none, or
    #: the provider's default when there is no api_base).
    key_env: str | None = None
    #: Other litellm parameters from a Router config (api_version, ...), as given.
    extra: tuple[tuple[str, Any], ...] = ()

    def params(self) -> dict[str, Any]:
        """litellm parameters for this endpoint, its key read now (never stored)."""
        out: dict[str, Any] = {"model": self.model, **dict(self.extra)}
        if self.api_base:
            out["api_base"] = self.api_base
        if self.key_env:
            key = os.environ.get(self.key_env)
            if not key:
                raise UsageError(f"the environment variable {self.key_env} (the API key for {self.where}) is not set")
            out["api_key"] = key
        elif self.api_base:
            out["api_key"] = NO_KEY  # never the provider's default variable: it is not this server's
        return out

    @property
    def where(self) -> str:
        return without_credentials(self.api_base) if self.api_base else f"{self.model.split('/')[0]}'s own endpoint"


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` taken out."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def normalise_base(url: str | None) -> str | None:
    """The API base as the cache knows it: scheme and host in lower case, every
    name of this machine's loopback as 127.0.0.1, no default port, no
    credentials, no trailing slash. ``http://localhost:8000/v1/`` and
    ``http://127.0.0.1:8000/v1`` are one server."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_NAMES or _is_loopback(host):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified  # 0.0.0.0 reaches this machine too


def missing_v1_hint(api_base: str | None) -> str:
    """A hint for a 404 from a server whose base lacks ``/v1``, or ''."""
    if not api_base:
        return ""
    path = urlsplit(api_base).path.rstrip("/")
    if path.endswith("/v1") or "/v1/" in path or path.endswith("/openai"):
        return ""
    return f"; OpenAI-compatible servers answer under /v1: try --api-base {api_base.rstrip('/')}/v1"


def deployments(model: str, api_bases: tuple[str, ...], key_env: str | None, router_config: str | None) -> tuple[list[Deployment], dict[str, Any]]:
    """The endpoints of a run and the Router settings from its config (if any)."""
    if router_config:
        if api_bases:
            raise UsageError("--router-config names the endpoints: leave out --api-base")
        return _from_router_config(Path(router_config), model, key_env)
    if not api_bases:
        return [Deployment(model, None, key_env)], {}
    seen: set[str] = set()
    out = []
    for base in api_bases:
        norm = normalise_base(base)
        if norm in seen:
            continue
        seen.add(norm or "")
        out.append(Deployment(model, base.rstrip("/"), key_env))
    return out, {}


def _from_router_config(path: Path, model: str, key_env: str | None) -> tuple[list[Deployment], dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--router-config {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            config = json.loads(text)
        else:
            import yaml

            config = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - yaml and json raise their own kinds
        raise UsageError(f"--router-config {path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {str(exc).splitlines()[0]}") from None
    entries = config.get("model_list") if isinstance(config, dict) else None
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"--router-config {path}: no model_list (a litellm Router config lists its deployments under model_list)")
    names = []
    out = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("litellm_params"), dict) or not entry.get("model_name"):
            raise UsageError(f"--router-config {path}: model_list item {n} needs model_name and litellm_params")
        names.append(str(entry["model_name"]))
        if entry["model_name"] != model:
            continue
        params = dict(entry["litellm_params"])
        if not params.get("model"):
            raise UsageError(f"--router-config {path}: model_list item {n} has no litellm_params.model")
        key = params.pop("api_key", None)
        env = None
        if isinstance(key, str) and key.startswith(ENV_PREFIX):
            env = key[len(ENV_PREFIX):]
        elif key:
            raise UsageError(f"--router-config {path}: model_list item {n}: write the key as api_key: os.environ/NAME, never the key itself")
        base = params.pop("api_base", None)
        if isinstance(base, str) and base.startswith(ENV_PREFIX):
            base = os.environ.get(base[len(ENV_PREFIX):])
        out.append(Deployment(str(params.pop("model")), base, env or (key_env if base is None else None), tuple(sorted(params.items()))))
    if not out:
        raise UsageError(f"--router-config {path} has no deployment of {model!r}: --model names a model_name of the config ({', '.join(sorted(set(names)))})")
    settings = config.get("router_settings") if isinstance(config.get("router_settings"), dict) else {}
    return out, settings
