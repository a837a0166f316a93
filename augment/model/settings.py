"""What the model client is told and what it reports: the settings of a run's
model (never a key), the usage and cost it counts, one answer, the errors a
request ends in, and the token estimate used before a request is sent."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augment.engine.dictionary import cache_folder
from augment.errors import AugmentError, VariantRejected
from augment.model.endpoints import without_credentials

SECRET_NAMES = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
#: Backoff when the server gives no Retry-After: 1, 2, 4, 8 ... seconds, capped.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
#: A server that has not answered once is given up after this many seconds
#: of connection failures (it is not running, or the URL is wrong).
START_WAIT = 2.0
#: Structured output, most to least exact.
MODES = ("json_schema", "json_object", "none")
#: What a server says when it does not take a response_format it was sent.
FORMAT_REFUSAL = re.compile(r"response_format|json_schema|json_object|structured output|guided_json|grammar|schema", re.I)
#: What a server says when a prompt and its max_tokens exceed the model's context.
CONTEXT_REFUSAL = re.compile(r"context length|context window|maximum context|too many tokens|prompt is too long|exceeds? the (?:model's )?(?:context|maximum)", re.I)
#: The router's name for the run's model group.
GROUP = "augment"
_UNSET: Any = object()


class BudgetExceeded(VariantRejected):
    """The next request could take the run past --max-cost."""


class AnswerCut(VariantRejected):
    """The answer was cut at max_tokens, even at --max-tokens-limit."""


class RequestRefused(VariantRejected):
    """The server refused one request (context length, content policy, another 4xx)."""


class ServerUnreachable(AugmentError):
    """No endpoint of the run can be reached: the run stops."""


@dataclass
class ModelSettings:
    model: str
    #: One API base, or several (balanced by litellm's Router).
    api_base: str | tuple[str, ...] | None = None
    #: Environment variable holding the key for --api-base (default: the
    #: provider's own variable, and only for the provider's own endpoint).
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
    #: An answer cut at max_tokens is asked once more with this many.
    max_tokens_limit: int = 4096
    #: The context window (prompt + answer) of a model litellm does not know.
    max_context: int | None = None
    #: auto, json_schema, json_object or none.
    response_format: str = "auto"
    #: Extra fields for the request body (chat_template_kwargs ...).
    extra_body: dict[str, Any] | None = None
    #: A litellm Router config (YAML or JSON) naming the endpoints.
    router_config: str | None = None
    #: Seconds a server that answered before may stay unreachable before the run stops.
    server_wait: float = 30.0

    @property
    def api_bases(self) -> tuple[str, ...]:
        if not self.api_base:
            return ()
        return (self.api_base,) if isinstance(self.api_base, str) else tuple(self.api_base)

    def describe(self) -> dict[str, Any]:
        """What goes into each record's provenance: what shapes the answers
        (model, sampling, extra body), never a key, and not where the model
        was served: the same run over one endpoint or several writes the
        same bytes (:meth:`endpoints` go into the dataset card)."""
        out: dict[str, Any] = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.extra_body:
            out["extra_body"] = self.extra_body
        return out

    def endpoints(self) -> dict[str, Any]:
        """Where the model was served, without credentials: for the dataset card."""
        out: dict[str, Any] = {}
        if self.api_bases:
            out["api_base"] = [without_credentials(b) for b in self.api_bases]
        if self.router_config:
            out["router_config"] = os.path.basename(self.router_config)
        return out


@dataclass
class Usage:
    #: Requests the server(s) received (every attempt, retries included).
    requests: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    #: Seconds waited before each retry, in order (Retry-After or backoff).
    waits: list[float] = field(default_factory=list)
    unpriced: bool = False
    #: Answers cut at max_tokens (each asked again with --max-tokens-limit, or dropped).
    cut: int = 0
    #: Requests the server refused (4xx about the request).
    refused: int = 0
    #: Requests not sent: the prompt does not fit the model's context.
    too_long: int = 0
    #: How structured output went: the mode used, and why it changed.
    structured: list[str] = field(default_factory=list)

    def lines(self, model: str) -> list[str]:
        price = "unknown (no price for this model: give --price-in/--price-out)" if self.unpriced else f"${max(self.cost, 0.0):.4f}"
        out = [
            f"model {model}: {self.requests} request(s), {self.cached} answered from the cache, {self.retries} retried",
            f"  tokens: {self.prompt_tokens} prompt + {self.completion_tokens} completion; cost {price}",
        ]
        if self.cut:
            out.append(f"  {self.cut} answer(s) cut at the token limit")
        if self.refused:
            out.append(f"  {self.refused} request(s) refused by the server")
        if self.too_long:
            out.append(f"  {self.too_long} prompt(s) too long for the model's context: not sent")
        out += [f"  structured output: {note}" for note in self.structured]
        return out


@dataclass
class Answer:
    """One answer (or refusal) from the server, as cached."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: The server's reason when it refused the request (a 4xx).
    refused: str | None = None


def cache_root() -> Path:
    return cache_folder() / "llm"


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
