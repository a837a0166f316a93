"""A stand-in for a language model behind the scripted server: it reads the
built-in prompts and answers in the shape each asks for, in the language the
prompt names, keeping protected text. What it writes is plain and
predictable, so tests can assert on it; everything around it (HTTP, litellm,
parsing, checks, retries, cache) is the real path."""

from __future__ import annotations

import json
import re

from augment.testing import Reply

ZH = ["（点点头）好，就这么办。", "客官请坐，茶马上就来。", "（望向窗外）雨还没停。", "今夜就在这里歇下吧。"]
EN = ["*nods* Fine, we'll do it your way.", "Sit down, the tea is coming.", "*glances at the window* The rain hasn't stopped.", "Rest here tonight, then."]
USER_EN = ["What happens next?", "Tell me more about the harbor.", "Can I stay another night?", "Who else was asking about me?"]
USER_ZH = ["接下来怎么办？", "再说说码头的事。", "我能多住一晚吗？", "还有谁打听过我？"]


def prompt_of(body: dict) -> str:
    return "\n".join(m["content"] for m in body.get("messages", []) if m["role"] in ("user", "system"))


def last_user(body: dict) -> str:
    return [m["content"] for m in body["messages"] if m["role"] == "user"][0]


def json_after(text: str, marker: str) -> object:
    """The JSON value that starts right after ``marker`` in ``text``."""
    start = text.index(marker) + len(marker)
    start = min(i for i in (text.find("[", start), text.find("{", start)) if i >= 0)
    return json.JSONDecoder().raw_decode(text[start:])[0]


def answer(body: dict) -> Reply:
    prompt = last_user(body)
    seed = int(body.get("seed", 0))
    chinese = "Write in Chinese" in prompt or "into Chinese" in prompt
    if "Continue it by exactly" in prompt:
        n = int(re.search(r"by exactly (\d+) turns", prompt).group(1))
        role = re.search(r'starting with a\s+"(\w+)" turn', prompt).group(1)
        turns = []
        for i in range(n):
            pool = (ZH if chinese else EN) if role == "assistant" else (USER_ZH if chinese else USER_EN)
            turns.append({"role": role, "content": pool[(seed + i) % len(pool)]})
            role = "user" if role == "assistant" else "assistant"
        return Reply(json.dumps({"turns": turns}, ensure_ascii=False))
    if "Move this conversation to a new setting" in prompt:
        dialogue = json_after(prompt, "The conversation, as JSON")
        system = prompt.split("The system prompt:\n", 1)[1].split("\n\nThe conversation", 1)[0]
        marker = "（雨夜）" if chinese else " (in the rain)"
        return Reply(json.dumps({"system": system + marker, "turns": [t["content"] + marker for t in dialogue]}, ensure_ascii=False))
    if "Rewrite these turns in this style" in prompt:
        targets = json_after(prompt, "Rewrite these turns in this style")
        suffix = "……" if chinese else " Indeed."
        return Reply(json.dumps({"turns": [t["content"] + suffix for t in targets]}, ensure_ascii=False))
    if "Write a brand-new conversation" in prompt:
        n = int(re.search(r"of exactly (\d+) turns", prompt).group(1))
        situation = re.search(r"in this situation: (.*)", prompt).group(1)
        turns = []
        for i in range(n):
            if i % 2 == 0:
                content = (USER_ZH if chinese else USER_EN)[(seed + i) % 4] + ("" if chinese else f" It's about {situation}.")
            else:
                content = (ZH if chinese else EN)[(seed + i) % 4]
            turns.append({"role": "user" if i % 2 == 0 else "assistant", "content": content})
        return Reply(json.dumps({"turns": turns}, ensure_ascii=False))
    if "Write one conversation of exactly" in prompt:  # from-passage
        return Reply(json.dumps({"turns": from_passage(prompt, seed, chinese)}, ensure_ascii=False))
    if "Write what the system prompt should add" in prompt:  # context-extension
        return Reply(json.dumps(context(prompt, "in Chinese." in prompt), ensure_ascii=False))
    if prompt.startswith("Translate each of these texts"):
        texts = json_after(prompt, "items).")
        target = re.search(r"into (.*?)\. Keep", prompt).group(1)
        if target in ("English", "the conversation's language"):
            out = [t.replace("[es] ", "").replace(" the ", " that ") for t in texts]
        else:
            out = ["[es] " + t for t in texts]
        return Reply(json.dumps({"turns": out}, ensure_ascii=False))
    return Reply(status=400, raw=b'{"error": {"message": "the fake model does not know this prompt"}}')


def from_passage(prompt: str, seed: int, chinese: bool) -> list[dict]:
    """Turns in which the character says a sentence of the passage (at most
    20 words or 30 characters of it), after an action."""
    marker = "as a JSON string:\n"
    start = prompt.index(marker) + len(marker)
    passage = json.JSONDecoder().raw_decode(prompt[start:])[0]
    n = int(re.search(r"of exactly (\d+) turns", prompt).group(1))
    sentences = [s for s in re.split(r"(?<=[.!?。！？])\s*", passage) if s.strip()]
    turns = []
    for i in range(n):
        if i % 2 == 0:
            turns.append({"role": "user", "content": (USER_ZH if chinese else USER_EN)[(seed + i) % 4]})
            continue
        said = sentences[(seed + i) % len(sentences)]
        said = said[:30] if chinese else " ".join(said.split()[:20])
        turns.append({"role": "assistant", "content": ("（点点头）" if chinese else "*nods* ") + said})
    return turns


def context(prompt: str, chinese: bool) -> dict:
    """Scene, situation and relationship made of words the conversation uses
    (never ten in a row), plus a few of its own."""
    dialogue = json_after(prompt, "The conversation, as JSON")
    text = " ".join(t["content"] for t in dialogue)
    if chinese:
        runs = [r[:6] for r in re.findall(r"[\u4e00-\u9fff]{2,}", text)] or ["客栈"]
        return {"scene": f"{runs[0]}。", "situation": f"你正忙着{runs[-1]}。", "relationship": "对方是常来的客人。"}
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{5,}", text)}, key=lambda w: (-len(w), w))[:4] or ["evening"]
    return {
        "scene": f"The talk turns on {', '.join(words[:3])}.",
        "situation": f"You are busy with {words[-1]} as it starts.",
        "relationship": "The user is a guest you know by sight.",
    }
