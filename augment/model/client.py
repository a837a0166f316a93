"""Talking to a language model: any litellm model string, any OpenAI-compatible server.

One ``LLMClient`` per run. It runs requests concurrently, backs off on 429
(honouring ``Retry-After``), times out, retries transient faults, keeps a
content-addressed disk cache (model, messages, parameters, seed: running the
same command again makes no request, and an interrupted run resumes), counts
tokens and cost, and refuses a request that could take the run past
``--max-cost``. litellm is imported on the first request, never at start-up.

API keys come from the environment (litellm reads the usual variables, or
``--api-key-env NAME``); they are never written to a cache, a log, provenance
or an error message.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from augment.errors import AugmentError, VariantRejected

T = TypeVar("T")
R = TypeVar("R")

SECRET_NAMES = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
#: Backoff when the server gives no Retry-After: 1, 2, 4, 8 ... seconds, capped.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0


class BudgetExceeded(VariantRejected):
    """The next request could take the run past --max-cost."""


@dataclass
class ModelSettings:
    model: str
    api_base: str | None = None
    #: Environment variable holding the key (default: what litellm looks for).
    api_key_env: str | None = None
    concurrency: int = 8
    timeout: float = 120.0
    retries: int = 4
    temperature: float = 0.8
    max_tokens: int = 1024
    cache_dir: Path | None = None
    max_cost: float | None = None
    #: USD per million tokens, for models litellm has no price for (local ones).
    price_in: float | None = None
    price_out: float | None = None

    def describe(self) -> dict[str, Any]:
        """What goes into provenance: never a key."""
        out: dict[str, Any] = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.api_base:
            out["api_base"] = _without_credentials(self.api_base)
        return out


@dataclass
class Usage:
    requests: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    #: Seconds waited before each retry, in order (Retry-After or backoff).
    waits: list[float] = field(default_factory=list)
    unpriced: bool = False

    def lines(self, model: str) -> list[str]:
        price = "unknown (no price for this model: give --price-in/--price-out)" if self.unpriced else f"${self.cost:.4f}"
        return [
            f"model {model}: {self.requests} request(s), {self.cached} answered from the cache, {self.retries} retried",
            f"  tokens: {self.prompt_tokens} prompt + {self.completion_tokens} completion; cost {price}",
        ]


def cache_root() -> Path:
    base = os.environ.get("AUGMENT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "augment")
    return Path(base) / "llm"


def scrub(text: str) -> str:
    """``text`` with every secret-looking environment value replaced by ***."""
    for name, value in os.environ.items():
        if value and len(value) >= 8 and SECRET_NAMES.search(name) and value in text:
            text = text.replace(value, "***")
    return text


def estimate_tokens(text: str) -> int:
    """A rough count (4 characters a token; 1 per CJK character), for budgets and dry runs."""
    cjk = sum(1 for ch in text if "\u3000" <= ch <= "\u9fff")
    return (len(text) - cjk) // 4 + cjk + 1


class LLMClient:
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.usage = Usage()
        self._lock = threading.Lock()
        self._litellm = None
        self.cache_dir = settings.cache_dir

    # -- the public calls ------------------------------------------------------
    def complete(self, messages: list[dict[str, str]], seed: int) -> str:
        """The model's answer to ``messages``; from the cache when it is there."""
        key = self._key(messages, seed)
        cached = self._cache_get(key)
        if cached is not None:
            with self._lock:
                self.usage.cached += 1
            return cached
        held = self._reserve(messages)
        text, prompt_tokens, completion_tokens, cost = self._request(messages, seed, held)
        with self._lock:
            self.usage.requests += 1
            self.usage.prompt_tokens += prompt_tokens
            self.usage.completion_tokens += completion_tokens
            if cost is None:
                self.usage.unpriced = True
            else:
                self.usage.cost += cost
        self._cache_put(key, text)
        return text

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R | Exception]:
        """``fn`` over ``items`` on ``concurrency`` threads, in order; an
        exception is returned in its item's place."""

        def safe(item: T) -> R | Exception:
            try:
                return fn(item)
            except Exception as exc:  # noqa: BLE001 - one item's failure
                return exc

        items = list(items)
        if self.settings.concurrency <= 1 or len(items) <= 1:
            return [safe(item) for item in items]
        with ThreadPoolExecutor(min(self.settings.concurrency, len(items))) as pool:
            return list(pool.map(safe, items))

    # -- budget ------------------------------------------------------------------
    def prices(self) -> tuple[float, float] | None:
        s = self.settings
        if s.price_in is not None or s.price_out is not None:
            return (s.price_in or 0.0) / 1e6, (s.price_out or 0.0) / 1e6
        try:
            info = self._lib().get_model_info(s.model)
            return float(info.get("input_cost_per_token") or 0.0), float(info.get("output_cost_per_token") or 0.0)
        except Exception:  # noqa: BLE001 - litellm does not know the model
            return None

    def _reserve(self, messages: list[dict[str, str]]) -> float:
        """Hold the most this request can cost; refuse it if that could pass --max-cost."""
        limit = self.settings.max_cost
        if limit is None:
            return 0.0
        prices = self.prices()
        if prices is None:
            raise AugmentError(
                f"--max-cost needs a price for {self.settings.model}: litellm has none; give --price-in and --price-out (USD per million tokens)"
            )
        prompt = estimate_tokens("".join(m["content"] for m in messages))
        worst = prompt * prices[0] + self.settings.max_tokens * prices[1]
        with self._lock:
            if self.usage.cost + worst > limit:
                raise BudgetExceeded(f"--max-cost ${limit:g} reached (spent ${self.usage.cost:.4f}); not requested")
            self.usage.cost += worst  # held until the real cost is known
        return worst

    # -- the request, with retries -------------------------------------------------
    def _lib(self):
        if self._litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price download at import
            import litellm

            litellm.suppress_debug_info = True
            litellm.drop_params = True  # a provider without `seed` ignores it instead of failing
            self._litellm = litellm
        return self._litellm

    def _request(self, messages: list[dict[str, str]], seed: int, held: float) -> tuple[str, int, int, float | None]:
        lib = self._lib()
        s = self.settings
        kwargs: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": s.max_tokens,
            "seed": seed % (2**31),
            "timeout": s.timeout,
            "num_retries": 0,
            "max_retries": 0,
        }
        if s.api_base:
            kwargs["api_base"] = s.api_base
        key = os.environ.get(s.api_key_env) if s.api_key_env else None
        if s.api_key_env and not key:
            raise AugmentError(f"--api-key-env {s.api_key_env}: that environment variable is not set")
        if key:
            kwargs["api_key"] = key
        elif s.api_base and s.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "no-key"  # local OpenAI-compatible servers want some key
        transient = (lib.RateLimitError, lib.Timeout, lib.APIConnectionError, lib.InternalServerError, lib.ServiceUnavailableError)
        fatal = (lib.AuthenticationError, lib.NotFoundError, lib.BadRequestError, lib.PermissionDeniedError)
        try:
            for attempt in range(s.retries + 1):
                try:
                    response = lib.completion(**kwargs)
                    text = response.choices[0].message.content or ""
                    if getattr(response.choices[0], "finish_reason", None) == "length":
                        raise VariantRejected("the answer was cut off at --max-tokens")
                    usage = getattr(response, "usage", None)
                    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
                    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
                    return text, prompt_tokens, completion_tokens, self._cost(prompt_tokens, completion_tokens)
                except fatal as exc:
                    raise AugmentError(f"{s.model}: {scrub(_short(exc))}") from None
                except transient as exc:
                    if attempt == s.retries:
                        raise VariantRejected(f"{s.model} failed {s.retries + 1} times: {scrub(_short(exc))}") from None
                    wait = _retry_after(exc)
                    if wait is None:
                        wait = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * (0.5 + random.random() / 2)
                    with self._lock:
                        self.usage.retries += 1
                        self.usage.waits.append(wait)
                    time.sleep(wait)
                except Exception as exc:  # an answer litellm could not read
                    if attempt == s.retries:
                        raise VariantRejected(f"{s.model}: {scrub(_short(exc))}") from None
                    with self._lock:
                        self.usage.retries += 1
            raise VariantRejected(f"{s.model}: no answer")
        finally:
            if held:
                with self._lock:
                    self.usage.cost -= held

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        prices = self.prices()
        if prices is None:
            return None
        return prompt_tokens * prices[0] + completion_tokens * prices[1]

    # -- the cache -------------------------------------------------------------------
    def _key(self, messages: list[dict[str, str]], seed: int) -> str:
        s = self.settings
        material = {
            "model": s.model,
            "api_base": s.api_base,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": s.max_tokens,
            "seed": seed,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> str | None:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))["answer"]
        except (OSError, ValueError, KeyError):
            return None  # a damaged entry is asked again

    def _cache_put(self, key: str, text: str) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"model": self.settings.model, "answer": text}, fh, ensure_ascii=False)
        os.replace(tmp, path)


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
    return text[:300]


def _without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` taken out."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
