"""Talking to a language model: any litellm model string, any OpenAI-compatible
server, one endpoint or several.

One ``LLMClient`` per run. Its requests go out from one asyncio loop in a
background thread, at most ``--concurrency`` at a time, and the window is the
client's, not a batch's: a model step hands it a batch of conversations and
gets the results back in order, while the loop keeps every slot busy.

What it does for every request:

- the answer cache: content-addressed (model, endpoint, messages, parameters,
  seed), so the same command asks nothing twice and an interrupted run
  resumes; answers cut at max_tokens and a server's refusals are cached too;
- the budget: a request that could take the run past ``--max-cost`` is not
  sent; every request sent is counted and costed;
- structured output: the step's JSON schema goes out as ``response_format``
  (json_schema, else json_object, else none: what litellm says the provider
  supports; a server that refuses one is asked again with the next);
- faults: 429 (with ``Retry-After``), 5xx, timeouts and unreadable answers
  are retried; a 4xx about one request (context length, content policy) drops
  that variant with the server's reason; a wrong key or URL stops the run; a
  server that cannot be reached stops it too (within seconds when it never
  answered, after ``--server-wait`` when it stops answering mid-run);
- cut answers (finish_reason "length") are asked once more with
  ``--max-tokens-limit``, then the variant is dropped.

litellm is imported on the first request, never at start-up. Keys are read
from the environment when a request is built (see :mod:`augment.model.endpoints`)
and never written to a cache, a log, provenance or an error message.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from augment.errors import AugmentError, VariantRejected
from augment.model.accounting import Accounting
from augment.model.endpoints import deployments, without_credentials
from augment.model.faults import _cannot_connect, _retry_after, classify
from augment.model.settings import (  # noqa: F401 (ModelSettings, RequestRefused, cache_root ... are imported from here)
    _UNSET, BACKOFF_BASE, BACKOFF_CAP, CONTEXT_REFUSAL, FORMAT_REFUSAL, GROUP, MODES, SECRET_NAMES, START_WAIT,
    Answer, AnswerCut, BudgetExceeded, ModelSettings, RequestRefused, ServerUnreachable, Usage, cache_root,
    estimate_tokens, scrub,
)
from augment.model.structured import StructuredOutput

T = TypeVar("T")
R = TypeVar("R")


class LLMClient(StructuredOutput, Accounting):
    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.usage = Usage()
        self.cache_dir = settings.cache_dir
        self.deployments, self._router_settings = deployments(settings.model, settings.api_bases, settings.api_key_env, settings.router_config)
        if settings.response_format not in ("auto", *MODES):
            raise AugmentError(f"response format {settings.response_format!r}: choose auto, {', '.join(MODES)}")
        self._lock = threading.Lock()
        self._litellm = None
        self._router = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._mode: str | None = None if settings.response_format == "auto" else settings.response_format
        self._supported: set[str] | None = None
        self._held = 0.0
        self._prices: Any = _UNSET
        self._limit: Any = _UNSET
        self._known: bool | None = None
        #: The run-level error that stops every request (a dead server, a wrong key).
        self._stopped: AugmentError | None = None
        self._answered = False
        self._down_since: float | None = None
        self._endpoint_id = self._endpoint_identity()

    # -- the public calls ------------------------------------------------------
    def complete(self, messages: list[dict[str, str]], seed: int, schema: dict[str, Any] | None = None) -> str:
        """The model's answer to ``messages``; from the cache when it is there."""
        return self.run(self.acomplete(messages, seed, schema)).text

    def run(self, coroutine: Awaitable[R]) -> R:
        """Run ``coroutine`` on the client's loop and wait for it (not from
        the loop itself: there, await :meth:`acomplete`)."""
        loop = self._event_loop()
        if threading.current_thread().name == LOOP_THREAD:
            coroutine.close()  # type: ignore[attr-defined]
            raise AugmentError("LLMClient.complete() was called from the client's own loop: await acomplete() there")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()  # type: ignore[arg-type]

    def gather(self, coroutines: Iterable[Awaitable[R]]) -> list[R | Exception]:
        """Every coroutine on the client's loop, concurrently (requests share
        the client's window); results in order, an exception in its item's place."""

        async def together():
            return await asyncio.gather(*coroutines, return_exceptions=True)

        out = []
        for result in self.run(together()):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                result = AugmentError(f"a request was cancelled: {type(result).__name__}")
            out.append(result)
        return out

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R | Exception]:
        """``fn`` over ``items`` on ``concurrency`` threads, in order; an
        exception is returned in its item's place (for steps that call
        :meth:`complete` from plain functions)."""

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

    async def acomplete(self, messages: list[dict[str, str]], seed: int, schema: dict[str, Any] | None = None) -> Answer:
        """The answer to ``messages``. An answer cut at max_tokens is asked once
        more with ``--max-tokens-limit`` (less what the prompt takes of a known
        context), then the variant is dropped."""
        s = self.settings
        max_tokens = s.max_tokens
        while True:
            answer = await self._ask(messages, seed, max_tokens, schema)
            if answer.finish_reason != "length":
                return answer
            with self._lock:
                self.usage.cut += 1
            bigger = s.max_tokens_limit
            limit = self.context_limit()
            if limit is not None:
                bigger = min(bigger, limit - self.count_tokens(messages))
            if bigger <= max_tokens:
                raise AnswerCut(f"the answer was cut off at {max_tokens} tokens (finish_reason length); raise --max-tokens-limit")
            max_tokens = bigger

    # -- one request, cached ---------------------------------------------------------
    async def _ask(self, messages: list[dict[str, str]], seed: int, max_tokens: int, schema: dict[str, Any] | None) -> Answer:
        while True:
            fmt = self._response_format(schema)
            key = self._key(messages, seed, max_tokens, fmt) if self.cache_dir is not None else ""
            answer = self._cache_get(key)
            if answer is not None:
                with self._lock:
                    self.usage.cached += 1
            else:
                answer = await self._send(messages, seed, max_tokens, fmt)
                self._cache_put(key, answer)
            if answer.refused is None:
                return answer
            if fmt is not None and FORMAT_REFUSAL.search(answer.refused) and not CONTEXT_REFUSAL.search(answer.refused):
                self._fall_back(fmt, answer.refused)
                continue
            hint = ""
            if CONTEXT_REFUSAL.search(answer.refused) and self.settings.max_context is None and self.context_limit() is None:
                hint = " (give the server's context as --max-context: prompts are then fitted before they are sent)"
            raise RequestRefused(f"the server refused the request: {answer.refused}{hint}")

    async def _send(self, messages: list[dict[str, str]], seed: int, max_tokens: int, fmt: dict[str, Any] | None) -> Answer:
        s = self.settings
        kwargs = self._kwargs(messages, seed, max_tokens, fmt)
        failures = 0
        unreachable = 0
        while True:
            self._raise_if_stopped()
            async with self._window():
                self._raise_if_stopped()
                # the budget is held by requests in flight only: one waiting for
                # a slot holds nothing, and sees what those before it cost
                held = self._reserve(messages, max_tokens)
                try:
                    response = await self._call(kwargs)
                except Exception as exc:  # noqa: BLE001 - sorted below
                    error = exc
                else:
                    return self._answered_with(response)
                finally:
                    self._release(held)
            kind, reason = self._classify(error)
            if kind == "unreachable":
                unreachable += 1
                await asyncio.sleep(self._unreachable_wait(unreachable, reason))
                continue
            with self._lock:
                self.usage.requests += 1
            if kind == "refused":
                with self._lock:
                    self.usage.refused += 1
                return Answer(refused=reason)
            if kind == "fatal":
                self._stop(AugmentError(reason))
                self._raise_if_stopped()
            if failures == s.retries:
                raise VariantRejected(f"{s.model} failed {s.retries + 1} times: {reason}")
            failures += 1
            wait = _retry_after(error)
            if wait is None:
                wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
            with self._lock:
                self.usage.retries += 1
                self.usage.waits.append(wait)
            await asyncio.sleep(wait)

    def _answered_with(self, response: Any) -> Answer:
        choice = response.choices[0]
        text = choice.message.content or ""
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = self._cost(prompt_tokens, completion_tokens)
        with self._lock:
            self._answered = True
            self._down_since = None
            self.usage.requests += 1
            self.usage.prompt_tokens += prompt_tokens
            self.usage.completion_tokens += completion_tokens
            if cost is None:
                self.usage.unpriced = True
            else:
                self.usage.cost += cost
        return Answer(text, getattr(choice, "finish_reason", None), prompt_tokens, completion_tokens)

    def _window(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        return self._semaphore

    def _kwargs(self, messages, seed: int, max_tokens: int, fmt) -> dict[str, Any]:
        s = self.settings
        supported = self._supported_params()
        kwargs: dict[str, Any] = {
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": max_tokens,
            "timeout": s.timeout,
            "num_retries": 0,
            "max_retries": 0,
        }
        if supported is None or "seed" in supported:
            kwargs["seed"] = seed % (2**31)
        if fmt is not None:
            kwargs["response_format"] = fmt
        if s.extra_body:
            kwargs["extra_body"] = s.extra_body
        return kwargs

    async def _call(self, kwargs: dict[str, Any]) -> Any:
        lib = self._lib()
        if len(self.deployments) == 1:
            return await lib.acompletion(**self.deployments[0].params(), **kwargs)
        return await self._get_router().acompletion(model=GROUP, **kwargs)

    # -- faults -------------------------------------------------------------------------
    def _classify(self, exc: Exception) -> tuple[str, str]:
        lib = self._lib()
        down = _cannot_connect(exc) or (isinstance(exc, getattr(lib, "RouterRateLimitError", ())) and self._down_since is not None)
        base = next((d.api_base for d in self.deployments if d.api_base), None)
        return classify(exc, lib, f"{self.settings.model} at {self._where()}", base, down)

    def _unreachable_wait(self, attempt: int, reason: str) -> float:
        """How long to wait before trying an unreachable server again, or stop
        the run: within START_WAIT seconds when it never answered, after
        --server-wait when it stopped answering."""
        now = time.monotonic()
        with self._lock:
            if self._down_since is None:
                self._down_since = now
            down = now - self._down_since
            patience = self.settings.server_wait if self._answered else min(START_WAIT, self.settings.server_wait)
        if down >= patience:
            what = f"stopped answering {down:.0f} s ago" if self._answered else "cannot be reached"
            self._stop(ServerUnreachable(
                f"{self.settings.model} at {self._where()} {what} ({reason}); is the server running, and is --api-base right? "
                "Answers so far are cached: run the same command again (with --resume when writing to a file) to go on"
            ))
            self._raise_if_stopped()
        return min(patience - down, 0.25 * 2 ** min(attempt - 1, 4)) + 0.01

    def _stop(self, error: AugmentError) -> None:
        with self._lock:
            if self._stopped is None:
                self._stopped = error

    def _raise_if_stopped(self) -> None:
        if self._stopped is not None:
            raise type(self._stopped)(str(self._stopped))

    def _where(self) -> str:
        places = [d.where for d in self.deployments]
        return places[0] if len(places) == 1 else f"{len(places)} endpoints ({', '.join(places)})"

    # -- litellm -------------------------------------------------------------------------
    def _lib(self):
        if self._litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price download at import
            from augment.slow_import import import_announced

            litellm = import_announced("litellm")  # once, lazily; announced on a terminal when slow

            litellm.suppress_debug_info = True
            # Parameters a provider does not take are left out here (see
            # _kwargs); litellm's own dropping would resend a request after a
            # 422 without counting it.
            litellm.drop_params = False
            self._litellm = litellm
        return self._litellm

    def _get_router(self):
        if self._router is None:
            from litellm import Router

            settings = {k: v for k, v in self._router_settings.items() if k in ("routing_strategy", "cooldown_time", "allowed_fails", "routing_strategy_args")}
            settings.setdefault("routing_strategy", "simple-shuffle")
            settings.setdefault("cooldown_time", max(5.0, min(60.0, self.settings.server_wait)))
            settings.setdefault("allowed_fails", 0)
            self._router = Router(
                model_list=[{"model_name": GROUP, "litellm_params": d.params()} for d in self.deployments],
                num_retries=0,  # retries are this client's, counted
                retry_after=0,
                **settings,
            )
        return self._router

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = shared_loop()
        return self._loop

    # -- the cache -------------------------------------------------------------------
LOOP_THREAD = "augment-llm"
_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def shared_loop() -> asyncio.AbstractEventLoop:
    """The process's one event loop for model requests, in a daemon thread
    (litellm keeps its HTTP sessions per loop: one loop, one pool)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name=LOOP_THREAD, daemon=True).start()
    return _loop


#: Kept for plugins that imported it from here.
_without_credentials = without_credentials
