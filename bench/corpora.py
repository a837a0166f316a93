"""The corpora of the benchmarks in bench/.

- ``synthetic(path, n, seed)``: N seeded, deterministic ShareGPT conversations
  (a ``system`` field, 4-10 alternating human/gpt turns of role-play text
  with *actions*, about 0.6-2 KB a line). ``convert.py``, ``startup.py`` and
  ``memory.py`` use it.
- ``from_sample(path, n)``: N ShareGPT conversations cycling the 12 real
  role-play records of ``samples/tavern.sharegpt.jsonl`` (each copy gets its
  own ``id``). ``augmenters.py`` and ``llm.py`` use it.
- ``distinct(path, n, seed)``: N ShareGPT conversations whose every turn is
  different, made of English sentences people wrote: WordNet's usage
  examples (read from the machine's WordNet at run time, each used once),
  2-4 a turn, 4-8 turns a conversation. ``augmenters.py --corpus distinct``
  uses it, so no cache of the tool's sees the same text twice.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson

from harness import ROOT, BenchError

SAMPLE = ROOT / "samples" / "tavern.sharegpt.jsonl"

NAMES = [
    "Mira", "Rhys", "Captain Vale", "Elowen", "Brother Tomas", "Kestrel", "Lady Anwen",
    "Jory", "Old Maeve", "Sergeant Holt", "Isolde", "Finnick", "the Archivist", "Dara",
]
PLACES = [
    "the Drowned Lantern", "Saltmere harbor", "the north road", "the old lighthouse",
    "the market square", "the chapel ruins", "the smugglers' cove", "the guild hall",
    "the eastern watchtower", "the library vaults", "the Gull's Wing", "the frozen pass",
]
THINGS = [
    "the map", "a sealed letter", "the brass key", "your debt", "the storm", "that lantern",
    "the ledger", "a dagger", "the tide tables", "a bottle of rum", "the prophecy", "my patience",
]
ACTIONS = [
    "leans against the bar", "raises an eyebrow", "sets the tankard down with a thunk",
    "glances toward the door", "crosses her arms", "shakes the rain from his coat",
    "taps the table twice", "lowers her voice", "grins despite himself", "pulls up a stool",
    "narrows her eyes", "slides a coin across the counter", "sighs heavily",
    "wipes her hands on her apron", "peers out the rain-streaked window", "laughs under her breath",
    "tosses him a rag", "unrolls the parchment carefully", "rests a hand on the hilt of a sword",
    "stares into the fire for a long moment", "leans in closer", "shrugs off the cloak",
]
SENTENCES = [
    "You're dripping on my floor, {name}, so that had better be important.",
    "I haven't seen {thing} since the night we left {place}.",
    "Tell me you didn't bring trouble in with you again.",
    "If you want a room, it'll cost you three silver and an honest answer.",
    "The last person who asked about {thing} ended up at the bottom of {place}.",
    "I'm not asking twice, {name}. Where were you last night?",
    "We leave for {place} at first light, whether you're ready or not.",
    "Fine. But if this goes wrong, I'm telling everyone it was your idea.",
    "There's a price on your head, you know \u2014 a generous one.",
    "Keep your voice down; the walls in this place have ears.",
    "You think I'd forget {thing}? I've been waiting years for this.",
    "Sit. Eat something first, then we'll talk about {place}.",
    "The storm won't let up until morning, so you may as well stay.",
    "I can get you into {place}, but getting out is your own problem.",
    "Someone paid good coin to make sure {thing} never reached {place}.",
    "Don't look at me like that. I said I was sorry.",
    "What exactly did {name} tell you about {thing}?",
    "Every sailor in {place} has a story, and most of them are lies.",
    "I trusted you once, and look where that got me.",
    "Ha! You call that a bargain? I've seen better deals from pickpockets.",
    "Bring me {thing} and we'll call your debt settled.",
    "It's quiet tonight. Too quiet, if you ask me.",
    "The guards at {place} change shifts at midnight; that's our chance.",
    "You owe me a drink, a new door and an explanation, in that order.",
    "I'll help you, but only because {name} asked me to.",
    "Whatever you heard about me in {place}, it's only half true.",
    "Careful with {thing}. It's older than both of us put together.",
    "We should have turned back at {place} when we had the chance.",
    "Do you hear that? Something's moving out on the water.",
    "I'm listening. Start from the beginning and leave nothing out.",
]
SYSTEM_OPENERS = [
    "You are {name}, the sharp-tongued keeper of {place}.",
    "You are {name}, a weary mercenary who has seen too many winters on {place}.",
    "You are {name}, a scholar obsessed with {thing} and the secrets of {place}.",
    "You are {name}, a smuggler who knows every hidden path around {place}.",
]
SYSTEM_TRAITS = [
    "You speak plainly, tease without mercy, and keep your real kindness well hidden.",
    "You are cautious with strangers but fiercely loyal to the few you trust.",
    "You love a good story and will bend the truth to tell a better one.",
    "You are proud, quick-tempered, and secretly afraid of the sea.",
    "You never give anything away for free, least of all information.",
]
SYSTEM_RULES = (
    "Stay in character, put actions in *asterisks*, and keep replies to one to three sentences. "
    "The user plays {name}, an old acquaintance who owes you more than money. "
    "Scene: a storm is battering {place} late at night."
)
MAX_LINE = 2048


def _fill(rng: random.Random, template: str) -> str:
    return template.format(name=rng.choice(NAMES), place=rng.choice(PLACES), thing=rng.choice(THINGS))


def _message(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.7:
        parts.append(f"*{rng.choice(ACTIONS)}*")
    parts.extend(_fill(rng, rng.choice(SENTENCES)) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.25:
        parts.append(f"*{rng.choice(ACTIONS)}*")
    return " ".join(parts)


def _system(rng: random.Random) -> str:
    return " ".join(
        [_fill(rng, rng.choice(SYSTEM_OPENERS)), *rng.sample(SYSTEM_TRAITS, rng.randint(1, 2)), _fill(rng, SYSTEM_RULES)]
    )


def synthetic(path: Path, n: int, seed: int) -> dict:
    """Write ``n`` ShareGPT records to ``path``; deterministic for a seed.

    Fast because the text is composed once into pools and each record only
    picks from them: ``rng.choices`` and one ``orjson.dumps`` per line.
    """
    rng = random.Random(seed)
    humans = [_message(rng) for _ in range(4096)]
    gpts = [_message(rng) for _ in range(4096)]
    systems = [_system(rng) for _ in range(512)]
    turn_counts = (4, 6, 8, 10)  # even, so every record is valid for trainers
    size = 0
    smallest = 1 << 30
    largest = 0
    with open(path, "wb", buffering=1 << 20) as out:
        for i in range(n):
            pairs = rng.choice(turn_counts) // 2
            conversations = []
            for h, g in zip(rng.choices(humans, k=pairs), rng.choices(gpts, k=pairs)):
                conversations.append({"from": "human", "value": h})
                conversations.append({"from": "gpt", "value": g})
            record = {"id": f"rp-{i:07d}", "system": rng.choice(systems), "conversations": conversations}
            line = orjson.dumps(record) + b"\n"
            while len(line) > MAX_LINE and len(conversations) > 4:  # keep lines under ~2 KB
                del conversations[-2:]
                line = orjson.dumps(record) + b"\n"
            out.write(line)
            size += len(line)
            smallest = min(smallest, len(line))
            largest = max(largest, len(line))
    return {"bytes": size, "min_line": smallest, "max_line": largest, "mean_line": size / n if n else 0}


def from_sample(path: Path, n: int) -> dict:
    """Write ``n`` records cycling the tavern sample; return their size, the
    number of turns and the turn texts (the ``conversations`` values)."""
    records = [orjson.loads(line) for line in SAMPLE.read_bytes().split(b"\n") if line.strip()]
    if not records:
        raise BenchError(f"{SAMPLE} has no records")
    texts: list[str] = []
    size = 0
    with open(path, "wb") as out:
        for i in range(n):
            record = dict(records[i % len(records)])
            record["id"] = f"{record.get('id', 'rec')}-copy{i:06d}"
            texts.extend(turn["value"] for turn in record["conversations"])
            line = orjson.dumps(record) + b"\n"
            out.write(line)
            size += len(line)
    return {"records_in_sample": len(records), "bytes": size, "turns": len(texts),
            "distinct_turns": len(set(texts)), "texts": texts}


def _examples() -> list[str]:
    """WordNet's usage examples (the quoted sentences of its glosses), in file order."""
    from augment_plugins.wordnet_data import wordnet_folder

    folder = wordnet_folder()
    out: list[str] = []
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (folder / f"data.{pos}").read_text("utf-8", "replace").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # the licence at the top
            gloss = line.split("|", 1)[1]
            for quoted in gloss.split('"')[1::2]:
                quoted = quoted.strip()
                if len(quoted.split()) >= 4:
                    out.append(quoted[0].upper() + quoted[1:] + ("" if quoted[-1] in ".!?" else "."))
    return out


def distinct(path: Path, n: int, seed: int) -> dict:
    """Write ``n`` conversations of distinct turns (see the module); the same
    stats as ``from_sample``."""
    sentences = _examples()
    random.Random(seed).shuffle(sentences)
    rng = random.Random(seed + 1)
    texts: list[str] = []
    size = used = 0
    with open(path, "wb") as out:
        for i in range(n):
            turns = []
            for t in range(rng.randint(2, 4) * 2):
                k = rng.randint(2, 4)
                if used + k > len(sentences):
                    raise BenchError(f"WordNet's {len(sentences):,} examples are too few for {n:,} conversations")
                text = " ".join(sentences[used : used + k])
                used += k
                turns.append({"from": ("human", "gpt")[t % 2], "value": text})
                texts.append(text)
            line = orjson.dumps({"id": f"distinct-{i:06d}", "conversations": turns}) + b"\n"
            out.write(line)
            size += len(line)
    return {"records_in_sample": None, "bytes": size, "turns": len(texts), "distinct_turns": len(set(texts)), "texts": texts}
