"""Structured output: which ``response_format`` a request carries
(json_schema, else json_object, else none: what litellm says the provider
takes), and falling back when a server refuses the one it was sent. A mixin
of :class:`~augment.model.client.LLMClient`."""

from __future__ import annotations

from typing import Any

from augment.model.settings import MODES


class StructuredOutput:
    def mode(self) -> str:
        """json_schema, json_object or none: what litellm says the provider takes
        (an OpenAI-compatible server of our own is asked for json_schema, and
        falls back if it refuses)."""
        if self._mode is None:
            lib = self._lib()
            model = self.deployments[0].model
            supported = self._supported_params()
            custom = any(d.api_base for d in self.deployments)
            provider = model.split("/", 1)[0] if "/" in model else "openai"
            try:
                schema_ok = bool(lib.supports_response_schema(model=model))
            except Exception:  # noqa: BLE001
                schema_ok = False
            if supported is not None and "response_format" not in supported:
                self._mode = "none"
            elif schema_ok or (custom and provider in ("openai", "hosted_vllm", "openai_like", "lm_studio", "llamafile", "ollama_chat")):
                self._mode = "json_schema"
            elif supported is not None:
                self._mode = "json_object"
            else:
                self._mode = "none"
            self.usage.structured.append(self._mode)
        return self._mode

    def _response_format(self, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is None:
            return None
        mode = self.mode()
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    def _fall_back(self, sent: dict[str, Any], reason: str) -> None:
        """The server refused the response_format it was sent: use the next mode."""
        with self._lock:
            current = "json_schema" if sent.get("type") == "json_schema" else "json_object"
            if self._mode != current:
                return  # another request has already moved on
            self._mode = MODES[MODES.index(current) + 1]
            self.usage.structured.append(f"{self._mode} (the server refused {current}: {reason[:120]})")

    def _supported_params(self) -> set[str] | None:
        if self._supported is None:
            try:
                params = self._lib().get_supported_openai_params(model=self.deployments[0].model)
            except Exception:  # noqa: BLE001
                params = None
            self._supported = set(params) if params else set()
        return self._supported or None
