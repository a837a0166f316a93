"""augment stats: estimated tokens against --cutoff-len, characters, the share
each chain changed, the near-duplicate similarity spread, distinct-n across
languages, and histogram bins that show a distribution."""

from __future__ import annotations

import json
import random
import re

import pytest
from conftest import SAMPLES, run_cli

from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.corpus.report import bin_edges, histogram
from augment.corpus.stats import Stats, Tally, _describe, conversation_tokens, describe_floats, estimate_tokens, tokens


def _conv(*texts: str, system: str | None = None, name: str | None = None) -> Conversation:
    turns = [Turn(SYSTEM, system)] if system else []
    turns += [Turn(USER if i % 2 == 0 else ASSISTANT, t, name if i % 2 else None) for i, t in enumerate(texts)]
    return Conversation(turns)


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _figures(path, *args):
    done = run_cli("stats", str(path), "--json", *args)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


# -- tokens -------------------------------------------------------------------------


def test_token_estimate_counts_cjk_by_character_and_words_by_1_3():
    assert estimate_tokens("你好，世界。") == 6  # four characters, two full-width marks
    assert estimate_tokens("こんにちは") == 5
    assert estimate_tokens("hello world") == pytest.approx(2.6)
    assert estimate_tokens("Mira 说：好的") == pytest.approx(1.3 + 4)
    assert estimate_tokens("  ... !!") == 0
    # text with nothing from U+3000 on skips the CJK patterns: the same counts (values from the code before)
    assert estimate_tokens("Café — “déjà vu”… naïve") == pytest.approx(5.2)
    assert estimate_tokens("Ｈｉ，Mira — 你好") == pytest.approx(7.6)
    assert estimate_tokens("K·9") == pytest.approx(2.6)
    # a conversation: its turns, the system prompt included, and 4 a turn for the template
    assert conversation_tokens(_conv("word " * 10, "词" * 20, system="hi")) == 3 * 4 + 13 + 20 + 2


def test_cutoff_counts_conversations_longer_than_the_cutoff(tmp_path):
    # n words and "ok" in 2 turns: 2 × 4 + 1.3 × (n + 1) tokens, rounded up
    lengths = {10: 23, 500: 660, 1000: 1310, 3000: 3910}
    records = [{"conversations": [{"from": "human", "value": "word " * (n - 1) + "end"}, {"from": "gpt", "value": "ok"}]} for n in lengths]
    path = _write(tmp_path / "long.jsonl", records)
    figures = _figures(path, "--cutoff-len", "1000")["file"]
    assert figures["tokens_per_conversation"]["max"] == 3910 and figures["tokens_per_conversation"]["min"] == 23
    assert figures["cutoff_len"] == 1000 and figures["over_cutoff"] == 2 and figures["over_cutoff_rate"] == 0.5
    assert _figures(path)["file"]["over_cutoff"] == 1  # the default, LLaMA-Factory's 2048
    text = run_cli("stats", str(path), "--cutoff-len", "700").stdout.decode()
    assert "over --cutoff-len 700: 2 (50.0%)" in text


# -- characters ---------------------------------------------------------------------


def test_conversations_and_turns_are_counted_per_character(tmp_path):
    records = [
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "name": "Tam", "content": "Eh."},
                      {"role": "user", "content": "Ale?"}, {"role": "assistant", "name": "Tam", "content": "Aye."}]},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "name": "Tam", "content": "Eh."}]},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]},
    ]
    path = _write(tmp_path / "named.jsonl", records)
    figures = _figures(path, "--personas", str(tmp_path / "none"))["file"]
    assert figures["by_character"] == {"Tam": {"conversations": 2, "turns": 3}, "(unnamed)": {"conversations": 1, "turns": 1}}


def test_the_linked_persona_names_the_character():
    figures = _figures(SAMPLES / "tavern.sharegpt.jsonl")["file"]  # ./personas holds Mira
    assert list(figures["by_character"]) == ["Mira"] and figures["by_character"]["Mira"]["conversations"] == 12


# -- diversity and similarity -------------------------------------------------------


def test_distinct_n_is_comparable_between_chinese_and_english():
    assert tokens("我爱你，我爱你") == ["我", "爱", "你", "我", "爱", "你"]
    assert tokens("I love you, I love you") == ["i", "love", "you", "i", "love", "you"]
    assert tokens("Mira说好") == ["mira", "说", "好"]
    # text with no CJK character is cut in one pass; with one, word by word: the same words either way
    assert tokens("Café — “déjà vu”… K=2") == ["café", "déjà", "vu", "k", "2"]  # (the Kelvin sign lower-cases to ASCII)
    assert tokens("Café 咖啡 — ｈｅｌｌｏ１２") == ["café", "咖", "啡", "ｈｅｌｌｏ", "１２"]
    zh, en = Stats("zh"), Stats("en")
    zh.add(_conv("我爱你，我爱你", "好。"))
    en.add(_conv("I love you, I love you", "fine."))
    for s in (zh, en):
        assert s.distinct1 == pytest.approx(4 / 7, abs=1e-4) and s.distinct2 == pytest.approx(3 / 5, abs=1e-4)
    assert list(zh.summary()["distinct_by_language"]) == ["zh"] and list(en.summary()["distinct_by_language"]) == ["en"]


def test_similarity_spread_finds_the_near_duplicates():
    s = Stats("x")
    base = "the keeper of the drowned lantern pours a cider and counts the silver twice before the storm"
    s.add(_conv(base, "aye"))
    s.add(_conv(base.replace("twice", "thrice"), "aye"))
    s.add(_conv("a completely different story about sailing ships far away in the cold north sea with whales", "no"))
    sim = s.summary()["near_duplicate_similarity"]
    assert sim["at_least_0.9"] == 0 and sim["max"] > 0.5 and sim["min"] < 0.2
    assert sum(b["conversations"] for b in sim["histogram"]) == 3
    s.add(_conv(base, "aye"))
    assert s.summary()["near_duplicate_similarity"]["at_least_0.9"] == 2


def test_a_tally_gives_the_figures_the_statistics_module_gives_for_its_values():
    rng = random.Random(14)
    samples = [[7], [3, 9], [5, 1, 5], list(range(10)), [rng.randrange(1, 4000) for _ in range(2001)],
               [rng.choice([0, 1, 2, 3, 12, 40]) for _ in range(1000)],
               [round(rng.random(), 4) for _ in range(3000)], [round(rng.random() ** 3, 4) for _ in range(1001)] + [0.0] * 7]
    for values in samples:
        tally = Tally()
        for v in values:
            tally.add(v)
        ordered = sorted(values)
        ranks = sorted({*range(0, len(values), max(1, len(values) // 200)), len(values) - 1})
        assert len(tally) == len(values) and [tally.at(k) for k in ranks] == [ordered[k] for k in ranks]
        for digits in (1, 2, 3):
            assert tally.describe(digits) == _describe(values, digits), (values[:5], digits)
        assert tally.above(values[0]) == sum(1 for v in values if v > values[0])
    assert Tally().describe() == _describe([])


def test_an_array_of_floats_gives_the_figures_the_statistics_module_gives():
    from array import array

    rng = random.Random(15)
    for values in ([0.5], [0.25, 0.75], [rng.random() for _ in range(1001)], [rng.random() / 3 for _ in range(2000)] + [0.0] * 40,
                   [rng.choice([0.1, 0.2, 0.3]) for _ in range(999)]):
        for digits in (1, 3):
            assert describe_floats(array("d", values), digits) == _describe(values, digits)
    assert describe_floats(array("d")) == _describe([])


def test_duplicates_and_sources_are_counted_over_the_whole_file():
    s = Stats("x")
    for text in ("a tale of the sea", "a tale of the hills", "a tale of the sea", "a tale of the sea"):
        s.add(_conv(text, "aye"))
    chain = [{"step": "typos", "options": {}}]
    for i, line in enumerate((1, 2, 1)):
        variant = _conv(f"variant {i}", "aye")
        variant.provenance = {"source": {"file": "in.jsonl", "line": line, "id": None}, "chain": chain}
        s.add(variant)
    figures = s.summary()
    assert figures["duplicates"] == 2 and figures["duplicate_rate"] == 2 / 7
    assert figures["yield"] == {"typos": {"records": 3, "per_source": 1.5}}  # 3 variants of 2 sources


# -- changed share ------------------------------------------------------------------


def test_the_share_each_chain_changed_is_measured_against_the_sources(tmp_path):
    prov = {"source": {"file": "in.jsonl", "line": 1, "id": "a"}, "seed": 1, "model": None}
    chain = [{"step": "synonym", "options": {}, "roles": ["user", "assistant"], "variants": 1, "variant": 0}]
    words = "one two three four five six seven eight nine ten"
    original = {"id": "a", "conversations": [{"from": "human", "value": words}, {"from": "gpt", "value": "yes"}], "provenance": {**prov, "chain": []}}
    variant = {"id": "a", "conversations": [{"from": "human", "value": words.replace("two", "deux").replace("nine", "nein")}, {"from": "gpt", "value": "yes"}],
               "provenance": {**prov, "chain": chain}}
    figures = _figures(_write(tmp_path / "out.jsonl", [original, variant]))["file"]
    # 2 of 10 words differ on each side, of 22 words in all: 4 / 22
    assert figures["changed"]["synonym"]["mean"] == round(4 / 22, 3)
    assert figures["changed"]["synonym"]["by_role"] == {"assistant": 0.0, "user": 0.2}
    # without the original in the file, the source is read from --compare
    source = _write(tmp_path / "in.jsonl", [{"id": "a", "conversations": original["conversations"]}])
    alone = _write(tmp_path / "alone.jsonl", [variant])
    figures = _figures(alone, "--compare", str(source))
    assert figures["file"]["changed"]["synonym"]["by_role"]["user"] == 0.2 and figures["file"]["changed_without_source"] == 0


# -- charts --------------------------------------------------------------------------


def _shares(values, edges):
    counts = [0] * len(edges)
    for v in values:
        counts[next((k for k in range(len(edges) - 1) if v < edges[k + 1]), len(edges) - 2 if v <= edges[-1] else len(edges) - 1)] += 1
    return [c / len(values) for c in counts]


def test_bins_show_a_skewed_distribution():
    rng = random.Random(3)
    lengths = [int(rng.lognormvariate(5, 1.2)) + 1 for _ in range(2000)]  # turn lengths: a long tail
    edges, log = bin_edges(lengths)
    assert log and max(_shares(lengths, edges)) < 0.25
    naive_step = (max(lengths) - min(lengths)) / 12
    assert sum(1 for v in lengths if v < min(lengths) + naive_step) / len(lengths) > 0.8  # what equal bins would show
    outlier = [rng.randint(100, 200) for _ in range(999)] + [100000]
    edges, log = bin_edges(outlier)
    assert not log and max(_shares(outlier, edges)) < 0.2 and edges[-1] <= 210  # the outlier is in the overflow bar
    assert bin_edges([4, 5, 6, 6, 10])[0] == [4, 5, 6, 7, 8, 9, 10, 11]  # one bar a value for small counts
    assert bin_edges([7, 7, 7])[0] == [7, 8]


def test_chart_labels_stay_inside_the_chart():
    rng = random.Random(1)
    values = [int(rng.lognormvariate(7, 1.5)) for _ in range(500)]
    svg = histogram([("a", values), ("b", values[:100])], "tokens", marker=(2048, "cutoff"))
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    for x, anchor, label in re.findall(r'<text x="([\d.]+)"[^>]*text-anchor="(\w+)"[^>]*>([^<]*)<', svg):
        half = 3.5 * len(label)
        left, right = {"start": (0, 2 * half), "middle": (half, half), "end": (2 * half, 0)}[anchor]
        assert float(x) - left >= 0 and float(x) + right <= width, label
    assert "(log scale)" in svg and "&gt; " in svg  # the tail's bar


def test_html_report_has_the_new_sections_and_json_keeps_up(tmp_path):
    page = tmp_path / "report.html"
    zh = SAMPLES / "wuxia.sharegpt.jsonl"
    done = run_cli("stats", str(zh), "--compare", str(SAMPLES / "tavern.sharegpt.jsonl"), "--html", str(page), "--cutoff-len", "300")
    assert done.returncode == 0, done.stderr.decode()
    text = page.read_text(encoding="utf-8")
    for needle in ("estimated tokens per conversation", "cutoff 300", "Characters", "highest similarity", "How it is counted", "default-src 'none'"):
        assert needle in text, needle
    assert "<script" not in text
    figures = _figures(zh, "--cutoff-len", "300")["file"]
    for key in ("tokens_per_conversation", "over_cutoff", "by_character", "distinct_by_language", "near_duplicate_similarity"):
        assert key in figures
    assert figures["distinct_by_language"]["zh"]["words"] > 0


def test_the_signatures_are_datasketchs_minhash_values():
    import numpy as np
    from datasketch import MinHash

    from augment.corpus.minhash import hashvalues
    from augment.corpus.stats import NUM_PERM, SEED

    for values in ([], [b"a"], [b"the cat sat", b"cat sat on", b"sat on the"], [str(i).encode() * 3 for i in range(300)]):
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        m.update_batch(values)
        mine = hashvalues(values, NUM_PERM, SEED)
        assert mine.dtype == m.hashvalues.dtype and np.array_equal(mine, m.hashvalues)



def test_the_similarity_of_a_large_corpus_is_the_lsh_forests():
    """Above EXACT_PAIRS conversations each one's best neighbour is looked up
    as datasketch's MinHashLSHForest (l=8, k=4) finds it, in arrays instead of
    the forest; the figures are the forest's."""
    import random

    import numpy as np
    from datasketch import LeanMinHash, MinHash, MinHashLSHForest

    from augment.corpus.minhash import hashvalues
    from augment.corpus.similarity import forest_best
    from augment.corpus.stats import NUM_PERM, SEED

    rng = random.Random(3)
    words = [f"w{i}" for i in range(400)]
    bases = [[rng.choice(words) for _ in range(40)] for _ in range(300)]
    rows = []
    for i in range(2300):
        text = list(rng.choice(bases)) if i % 2 else [rng.choice(words) for _ in range(40)]
        for _ in range(rng.randrange(0, 8)):
            text[rng.randrange(len(text))] = rng.choice(words)
        rows.append(hashvalues(sorted({" ".join(text[j : j + 3]).encode() for j in range(len(text) - 2)}), NUM_PERM, SEED))
    rows += [rows[10].copy() for _ in range(40)]  # exact copies: the forest's buckets hold them all (a walk back past a read-ahead)
    values = np.stack(rows)
    forest = MinHashLSHForest(num_perm=NUM_PERM)
    hashes = []
    for i, row in enumerate(values):
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        m.hashvalues = row
        hashes.append(LeanMinHash(m))
        forest.add(i, hashes[-1])
    forest.index()
    expected = [max((float((values[j] == values[i]).mean()) for j in forest.query(m, 4) if j != i), default=0.0) for i, m in enumerate(hashes)]
    got = forest_best(values)
    assert got == expected
    assert 0 < sum(b == 0.0 for b in got) < len(got) and got[10] == 1.0  # some found neighbours, some none


def test_past_exact_pairs_the_signatures_go_to_a_file_and_give_the_same_figures():
    """The signatures of a large corpus move to a temporary file: every row
    arrives there in order (the figures are those of the rows held in memory),
    and rows added after a summary count in the next one."""
    import numpy as np

    from augment.corpus.similarity import EXACT_PAIRS, Signatures, highest_similarity

    rng = np.random.default_rng(14)
    rows = rng.integers(0, 1 << 32, size=(EXACT_PAIRS + 40, 64), dtype=np.uint64).astype(np.uint32)
    rows[1::7] = rows[::7][: len(rows[1::7])]  # exact copies
    rows[2::7, :32] = rows[::7, :32][: len(rows[2::7])]  # half the values shared
    kept = Signatures(64)
    for row in rows[:EXACT_PAIRS]:
        kept.append(row)
    assert list(kept.highest_similarity()) == highest_similarity(rows[:EXACT_PAIRS])  # exact, in memory
    for row in rows[EXACT_PAIRS:]:
        kept.append(row)
    assert len(kept) == len(rows) and kept._file is not None
    got = list(kept.highest_similarity())
    assert got == highest_similarity(rows)
    assert got[1] == 1.0 and got[2] >= 0.5 and 0 < got.count(0.0) < len(got)
