"""augment: grow role-play conversation corpora for fine-tuning.

The names in ``__all__`` are the public API for plugin authors; a plugin
imports them from here (``from augment import Format, Conversation``) and
nothing else from the core. They are listed, with their signatures, in
``docs/hooks.md``. They load on first use, so ``import augment`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

import pluggy

__version__ = "0.2.0"

#: Mark a plugin's hook implementations with ``@augment.hookimpl``.
hookimpl = pluggy.HookimplMarker("augment")

#: Public name -> (module, attribute).
_PUBLIC: dict[str, tuple[str, str]] = {
    # the conversation model
    "Conversation": ("augment.conversation", "Conversation"),
    "Turn": ("augment.conversation", "Turn"),
    "Location": ("augment.conversation", "Location"),
    "Preference": ("augment.conversation", "Preference"),
    "SYSTEM": ("augment.conversation", "SYSTEM"),
    "USER": ("augment.conversation", "USER"),
    "ASSISTANT": ("augment.conversation", "ASSISTANT"),
    "FUNCTION_CALL": ("augment.conversation", "FUNCTION_CALL"),
    "OBSERVATION": ("augment.conversation", "OBSERVATION"),
    "ROLES": ("augment.conversation", "ROLES"),
    "PROMPT_ROLES": ("augment.conversation", "PROMPT_ROLES"),
    "ANSWER_ROLES": ("augment.conversation", "ANSWER_ROLES"),
    # errors
    "AugmentError": ("augment.errors", "AugmentError"),
    "RecordError": ("augment.errors", "RecordError"),
    "Unrepresentable": ("augment.errors", "Unrepresentable"),
    "UsageError": ("augment.errors", "UsageError"),
    "PluginError": ("augment.errors", "PluginError"),
    "VariantRejected": ("augment.errors", "VariantRejected"),
    # formats
    "Format": ("augment.dataio.formats", "Format"),
    "split_known": ("augment.dataio.formats", "split_known"),
    "type_name": ("augment.dataio.formats", "type_name"),
    "optional_columns": ("augment.dataio.formats", "optional_columns"),
    "kto_tag": ("augment.dataio.formats", "kto_tag"),
    "problems": ("augment.dataio.validation", "problems"),
    "order_problems": ("augment.dataio.validation", "order_problems"),
    # augmenters and filters
    "Augmenter": ("augment.engine.augmenters", "Augmenter"),
    "TextAugmenter": ("augment.engine.augmenters", "TextAugmenter"),
    "Option": ("augment.engine.augmenters", "Option"),
    "between": ("augment.engine.augmenters", "between"),
    "StepContext": ("augment.engine.augmenters", "StepContext"),
    "Resources": ("augment.engine.augmenters", "Resources"),
    "Kept": ("augment.engine.fate", "Kept"),
    "Dropped": ("augment.engine.fate", "Dropped"),
    "Skipped": ("augment.engine.fate", "Skipped"),
    "Failed": ("augment.engine.fate", "Failed"),
    "Restored": ("augment.engine.fate", "Restored"),
    "Filter": ("augment.engine.filters", "Filter"),
    "FilterContext": ("augment.engine.filters", "FilterContext"),
    # protected spans and languages
    "Protector": ("augment.engine.protect", "Protector"),
    "ALL_SPANS": ("augment.engine.protect", "ALL"),
    "detect_language": ("augment.engine.languages", "detect"),
    "is_word": ("augment.engine.dictionary", "is_word"),
    "wordnet_folder": ("augment.engine.dictionary", "wordnet_folder"),
    "cache_folder": ("augment.engine.dictionary", "cache_folder"),
    # characters
    "Persona": ("augment.corpus.personas", "Persona"),
    "PersonaImporter": ("augment.corpus.personas", "PersonaImporter"),
    "link_persona": ("augment.corpus.personas", "link"),
    # model steps
    "LLMAugmenter": ("augment.model.steps", "LLMAugmenter"),
    "LLM_OPTIONS": ("augment.model.steps", "COMMON_OPTIONS"),
    "character": ("augment.model.steps", "character"),
    "dialogue_json": ("augment.model.steps", "dialogue_json"),
    "language_name": ("augment.model.steps", "language_name"),
    "LANGUAGE_NAMES": ("augment.model.steps", "LANGUAGE_NAMES"),
    "SCHEMA_NOTE": ("augment.model.steps", "SCHEMA_NOTE"),
    "speakers": ("augment.model.steps", "speakers"),
    "schema_object": ("augment.model.answers", "obj"),
    "schema_string": ("augment.model.answers", "text"),
    "schema_string_array": ("augment.model.answers", "string_array"),
    "schema_turns_array": ("augment.model.answers", "turns_array"),
    "schema_text": ("augment.model.answers", "schema_text"),
    "RequestRefused": ("augment.model.settings", "RequestRefused"),
    "LLMClient": ("augment.model.client", "LLMClient"),
    "ModelSettings": ("augment.model.settings", "ModelSettings"),
    "PromptTemplate": ("augment.model.prompting", "PromptTemplate"),
    "parse_json": ("augment.model.prompting", "parse_json"),
    "string_list": ("augment.model.prompting", "string_list"),
    "role_list": ("augment.model.prompting", "role_list"),
    "leak": ("augment.model.leaks", "leak"),
    # regular expressions compiled on first use, not at import
    "LazyPattern": ("augment.patterns", "LazyPattern"),
}

__all__ = ["__version__", "hookimpl", *_PUBLIC]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'augment' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
