"""Out-of-character and refusal text: the assistant stepping out of the role
("As an AI language model, I cannot..."). A character model trained on it
learns to break character, so generated turns carrying it are refused."""

from __future__ import annotations

import re

PATTERNS = (
    r"\bas an? (?:ai language model|large language model|language model|artificial intelligence|ai)\b",
    r"\b(?:ai|artificial intelligence) language model\b",
    r"\bI(?:'m| am) (?:just |only )?an? (?:ai|language model|large language model|virtual assistant|chatbot)\b",
    r"\bI (?:cannot|can't|can not|won't|am unable to|'m unable to) (?:help|assist|comply|fulfil+|continue|engage|provide|create|generate|write)(?: with)? (?:that|this|your request)",
    r"\b(?:OpenAI|Anthropic)'s (?:policy|policies|guidelines)\b",
    r"\bcontent polic(?:y|ies)\b",
    r"\bout of character\b|\(\(?\s*OOC\b|\bOOC:",
    r"作为(?:一个|一名)?(?:AI|人工智能|语言模型|大语言模型)",
    r"我(?:只)?是(?:一个|一名)?(?:AI|人工智能|语言模型)(?:助手)?",
    r"(?:抱歉|对不起)[，,]?\s*我(?:无法|不能)(?:提供|完成|满足|协助|帮助)",
)
LEAK = re.compile("|".join(f"(?:{p})" for p in PATTERNS), re.I)


def leak(text: str) -> str | None:
    """The out-of-character or refusal phrase in ``text``, or None."""
    match = LEAK.search(text)
    return match.group(0) if match else None
