"""The rules trainers enforce on a conversation, and repairs for the defects
that real role-play exports have.

The rules are LLaMA-Factory's (``converter.py``): after a leading system
prompt, odd positions are ``user`` or ``observation``, even positions
``assistant`` or ``function_call``, and the count is even; for preference
data (DPO) the prompt ends with a user turn (an odd count) and both answers
are assistant turns. A record that breaks
them is skipped at training time without a word, so we say it here.
"""

from __future__ import annotations

from typing import Literal

from augment.conversation import ANSWER_ROLES, ASSISTANT, PROMPT_ROLES, SYSTEM, USER, Conversation, Turn

GreetingPolicy = Literal["fold-into-system", "insert-user", "drop"]
GREETING_POLICIES: tuple[str, ...] = ("fold-into-system", "insert-user", "drop")


def problems(conv: Conversation) -> list[str]:
    """Every rule ``conv`` breaks, as sentences; empty when it is valid."""
    if conv.preference is None and _plainly_valid(conv.turns):
        return []  # the lean path: one pass for the records that break nothing
    out = order_problems(conv) + [
        f"turn {_number(conv, turn)}: empty {turn.role} turn"
        for turn in conv.dialogue
        if turn.role != SYSTEM and not turn.content.strip()
    ]
    if conv.preference is not None:
        for which in ("chosen", "rejected"):
            answer = getattr(conv.preference, which)
            if answer.role not in ANSWER_ROLES:
                out.append(f"the {which} answer is a {answer.role} turn, not an assistant answer")
            elif not answer.content.strip():
                out.append(f"the {which} answer is empty")
    return out


def _plainly_valid(turns: list[Turn]) -> bool:
    """True when a chat's turns break no rule: an optional system prompt, then
    prompt/answer pairs, none of them empty."""
    start = 1 if turns and turns[0].role == SYSTEM else 0
    n = len(turns) - start
    if n == 0 or n % 2:
        return False
    prompt = True
    for i in range(start, len(turns)):
        turn = turns[i]
        if turn.role not in (PROMPT_ROLES if prompt else ANSWER_ROLES) or not turn.content.strip():
            return False
        prompt = not prompt
    return True


def order_problems(conv: Conversation) -> list[str]:
    """The role-order rules ``conv`` breaks (position, alternation, count)."""
    out: list[str] = []
    for i, turn in enumerate(conv.turns):
        if turn.role == SYSTEM and i > 0:
            out.append(f"turn {_number(conv, turn)}: a system turn after the start")
    turns = [t for t in conv.dialogue if t.role != SYSTEM]
    if not turns:
        return out + ["no dialogue turns"]
    for i, turn in enumerate(turns):
        expected = PROMPT_ROLES if i % 2 == 0 else ANSWER_ROLES
        if turn.role not in expected:
            if i == 0 and turn.role == ASSISTANT:
                out.append("starts with an assistant turn (a greeting?); trainers expect the user first")
            elif i > 0 and turns[i - 1].role == turn.role:
                out.append(f"turn {_number(conv, turn)}: two {turn.role} turns in a row")
            else:
                out.append(f"turn {_number(conv, turn)}: {turn.role} where {' or '.join(expected)} is expected")
            break  # later positions are all off by one; one message is enough
    if conv.preference is not None:
        if len(turns) % 2 == 0:
            out.append(f"even number of dialogue turns ({len(turns)}) before a preference pair: the prompt must end with a user turn")
    elif len(turns) % 2:
        out.append(f"odd number of dialogue turns ({len(turns)}): it must end with an assistant answer")
    return out


def _number(conv: Conversation, turn: Turn) -> int:
    """The 1-based position of ``turn`` among the dialogue turns (system prompt not counted)."""
    for i, t in enumerate(conv.dialogue):
        if t is turn:
            return i + 1
    return 0


def repair(conv: Conversation, greeting: str = "fold-into-system", opener: str = "Hello.") -> list[str]:
    """Fix what can be fixed in place; return what was done, one line a fix.

    - empty turns are dropped;
    - an assistant-first greeting is folded into the system prompt, answered
      by an inserted user turn (``opener``), or dropped, as ``greeting`` says;
    - consecutive turns of one role are merged (speaker names kept inline);
    - a trailing user turn is dropped.
    """
    done: list[str] = []
    kept = [t for t in conv.turns if t.role == SYSTEM or t.content.strip()]
    if len(kept) != len(conv.turns):
        done.append(f"dropped {len(conv.turns) - len(kept)} empty turn(s)")
        conv.turns = kept

    dialogue_start = 1 if conv.system is not None else 0
    if len(conv.turns) > dialogue_start and conv.turns[dialogue_start].role == ASSISTANT:
        if greeting == "fold-into-system":
            # every assistant turn before the user's first: in a group chat the characters greet in turn
            end = dialogue_start
            while end < len(conv.turns) and conv.turns[end].role == ASSISTANT:
                end += 1
            greetings = conv.turns[dialogue_start:end]
            named = len({t.name for t in greetings}) > 1
            text = "\n\n".join(f"{t.name}: {t.content}" if named and t.name else t.content for t in greetings)
            del conv.turns[dialogue_start:end]
            if conv.system is not None:
                conv.turns[0].content = f"{conv.turns[0].content}\n\n{text}"
            else:
                conv.turns.insert(0, Turn(SYSTEM, text))
            done.append("folded the assistant greeting into the system prompt")
        elif greeting == "insert-user":
            conv.turns.insert(dialogue_start, Turn(USER, opener))
            done.append(f"inserted a user turn {opener!r} before the assistant greeting")
        elif greeting == "drop":
            while len(conv.turns) > dialogue_start and conv.turns[dialogue_start].role == ASSISTANT:
                del conv.turns[dialogue_start]
            done.append("dropped the assistant greeting")
        else:
            raise ValueError(f"unknown greeting policy {greeting!r}")

    merged: list[Turn] = []
    inlined: set[int] = set()  # turns whose speaker names moved into the text
    merges = 0
    for turn in conv.turns:
        prev = merged[-1] if merged else None
        if prev is None or prev.role != turn.role or turn.role == SYSTEM:
            merged.append(turn)
            continue
        if prev.name != turn.name and id(prev) not in inlined:
            if prev.name:
                prev.content = f"{prev.name}: {prev.content}"
            inlined.add(id(prev))
        if id(prev) in inlined and turn.name:
            prev.content += f"\n{turn.name}: {turn.content}"
        else:
            prev.content += f"\n{turn.content}"
        merges += 1
    for turn in merged:
        if id(turn) in inlined:
            turn.name = None
    if merges:
        done.append(f"merged {merges} turn(s) into the previous turn of the same role")
        conv.turns = merged

    # A preference record's prompt ends with the user turn its answers answer.
    if conv.preference is None and conv.dialogue and conv.dialogue[-1].role in PROMPT_ROLES:
        conv.turns.pop()
        done.append("dropped the trailing user turn")
    return done
