"""The client's accounting: what a request may cost and whether it fits the
model's context (before it is sent), and the content-addressed answer cache
(so the same command asks nothing twice)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from augment.errors import AugmentError
from augment.model.endpoints import normalise_base
from augment.model.settings import _UNSET, Answer, BudgetExceeded, estimate_tokens


class Accounting:
    """Budget, context and cache, for :class:`augment.model.client.LLMClient`."""

    def context_limit(self) -> int | None:
        """The model's context window in tokens (--max-context, else litellm's model info), or None."""
        if self._limit is _UNSET:
            limit = self.settings.max_context
            if limit is None:
                try:
                    info = self._lib().get_model_info(self.deployments[0].model)
                    limit = info.get("max_input_tokens") or info.get("max_tokens")
                except Exception:  # noqa: BLE001 - litellm does not know the model
                    limit = None
            self._limit = int(limit) if limit else None
        return self._limit

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """The prompt's tokens by litellm's counter (the model's tokenizer when
        litellm knows the model), with a margin for chat templates. For a
        model litellm does not know, its stand-in tokenizer may count fewer
        than the server's: the rough estimate (4 characters a token, one per
        CJK character) is taken when larger, and the margin is wider."""
        estimate = sum(estimate_tokens(m["content"]) for m in messages)
        try:
            counted = self._lib().token_counter(model=self.deployments[0].model, messages=messages)
        except Exception:  # noqa: BLE001 - no tokenizer: estimate
            counted = estimate
        if not self._known_model():
            counted = max(counted * 1.15, estimate)
        return int(counted * 1.05) + 4 * len(messages) + 8

    def _known_model(self) -> bool:
        if self._known is None:
            try:
                self._lib().get_model_info(self.deployments[0].model)
                self._known = True
            except Exception:  # noqa: BLE001
                self._known = False
        return self._known

    def overflow(self, messages: list[dict[str, str]]) -> tuple[int, int] | None:
        """(tokens needed, context window) when ``messages`` and --max-tokens
        do not fit the model's context; None when they fit or the window is unknown."""
        limit = self.context_limit()
        if limit is None:
            return None
        needed = self.count_tokens(messages) + self.settings.max_tokens
        return (needed, limit) if needed > limit else None

    # -- budget ------------------------------------------------------------------
    def prices(self) -> tuple[float, float] | None:
        if self._prices is _UNSET:
            s = self.settings
            if s.price_in is not None or s.price_out is not None:
                self._prices = (s.price_in or 0.0) / 1e6, (s.price_out or 0.0) / 1e6
            else:
                try:
                    info = self._lib().get_model_info(self.deployments[0].model)
                    self._prices = float(info.get("input_cost_per_token") or 0.0), float(info.get("output_cost_per_token") or 0.0)
                except Exception:  # noqa: BLE001 - litellm does not know the model
                    self._prices = None
        return self._prices

    def _reserve(self, messages: list[dict[str, str]], max_tokens: int) -> float:
        """Hold the most this request can cost; refuse it if that could pass --max-cost."""
        limit = self.settings.max_cost
        if limit is None:
            return 0.0
        prices = self.prices()
        if prices is None:
            raise AugmentError(
                f"--max-cost needs a price for {self.settings.model}: litellm has none; give --price-in and --price-out (USD per million tokens)"
            )
        # an upper bound: the larger of the tokenizer's count and the rough
        # estimate, a tenth more, and the whole answer budget
        text = "".join(m["content"] for m in messages)
        prompt = int(max(self.count_tokens(messages), estimate_tokens(text)) * 1.1) + 16
        worst = prompt * prices[0] + max_tokens * prices[1]
        with self._lock:
            if self.usage.cost + self._held + worst > limit:
                raise BudgetExceeded(f"--max-cost ${limit:g} reached; not requested")  # what was spent is in the usage lines
            self._held += worst
        return worst

    def _release(self, held: float) -> None:
        if held:
            with self._lock:
                self._held -= held

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        prices = self.prices()
        if prices is None:
            return None
        return prompt_tokens * prices[0] + completion_tokens * prices[1]

    # -- structured output ----------------------------------------------------------

    def _endpoint_identity(self) -> list[Any]:
        """Which server answers, for the cache: normalised bases (localhost
        and 127.0.0.1, a trailing slash: one server), in any order."""
        return sorted([d.model, normalise_base(d.api_base), list(d.extra)] for d in self.deployments)

    def _key(self, messages, seed: int, max_tokens: int, fmt) -> str:
        s = self.settings
        material = {
            "model": s.model,
            "endpoints": self._endpoint_id,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": max_tokens,
            "seed": seed,
            "response_format": fmt,
            "extra_body": s.extra_body,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> Answer | None:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            return Answer(entry["answer"], entry.get("finish_reason"), int(entry.get("prompt_tokens") or 0), int(entry.get("completion_tokens") or 0), entry.get("refused"))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged entry is asked again

    def _cache_put(self, key: str, answer: Answer) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        entry = {"model": self.settings.model, "answer": answer.text, "finish_reason": answer.finish_reason,
                 "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens, "refused": answer.refused}
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh, ensure_ascii=False)
        os.replace(tmp, path)
