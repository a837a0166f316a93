"""augment review: a seeded sample of variants beside their sources, the
changed words highlighted, provenance and rejects shown, everything escaped."""

from __future__ import annotations

import json
import re

import pytest
from conftest import SAMPLES, read_records, run_cli

from augment.conversation import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.corpus.review import inline_diff, replay_repairs, word_diff


@pytest.fixture(scope="module")
def augmented(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    out = folder / "tavern.aug.jsonl"
    done = run_cli("run", str(SAMPLES / "tavern.sharegpt.jsonl"), "-o", str(out), "--seed", "7", "--repair", "--workers", "1",
                   "typos", "--variants", "3", "near-duplicates", "--threshold", "0.93")
    assert done.returncode == 0, done.stderr.decode()
    assert (folder / "tavern.aug.jsonl.rejects.jsonl").is_file()
    return out


def _record(turns, *, id="r1", chain=None, line=1, file="src.jsonl", **prov):
    record = {"id": id, "conversations": [{"from": "human" if role == "user" else "gpt", "value": text} for role, text in turns]}
    record["provenance"] = {"source": {"file": file, "line": line, "id": id}, "seed": 3, "chain": chain or [], "model": None, **prov}
    return record


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


TYPOS = [{"step": "typos", "options": {"rate": 0.2, "max_chars": 1}, "roles": ["user"], "variants": 2, "variant": 0}]


# -- the diff ---------------------------------------------------------------------


def test_word_diff_highlights_the_changed_words():
    left, right = word_diff("The cat sat on the mat.", "The dog sat on the mat!")
    assert left == "The <del>cat</del> sat on the mat<del>.</del>"
    assert right == "The <ins>dog</ins> sat on the mat<ins>!</ins>"
    assert inline_diff("The cat sat on the old mat.", "The dog sat on the mat.") == "The [-cat-]{+dog+} sat on the [-old-] mat."


def test_word_diff_runs_of_words_and_spacing_are_kept():
    left, right = word_diff("you've got a dry room", "you have a dry room left")
    assert left == "you<del>&#x27;ve got</del> a dry room"
    assert right == "you <ins>have</ins> a dry room <ins>left</ins>"  # the space before a run stays outside it


def test_chinese_is_compared_character_by_character():
    left, right = word_diff("我住在北京，很喜欢这里。", "我住在上海，很喜欢这里。")
    assert left == "我住在<del>北京</del>，很喜欢这里。"
    assert right == "我住在<ins>上海</ins>，很喜欢这里。"


def test_repairs_are_replayed_to_find_the_source_the_chain_saw():
    raw = Conversation([Turn(SYSTEM, "You are Mira."), Turn(ASSISTANT, "Welcome!"), Turn(USER, "Hi."), Turn(ASSISTANT, "Sit.")])
    done = replay_repairs(raw, ["inserted a user turn 'Hello.' before the assistant greeting"])
    assert [t.role for t in done.turns] == [SYSTEM, USER, ASSISTANT, USER, ASSISTANT]
    folded = replay_repairs(raw, ["folded the assistant greeting into the system prompt"])
    assert folded.turns[0].content == "You are Mira.\n\nWelcome!" and len(folded.turns) == 3
    assert len(raw.turns) == 4  # the record read is left as it was


# -- the command ----------------------------------------------------------------


def test_the_sample_is_the_same_for_a_seed_and_another_for_another(augmented, tmp_path):
    first = run_cli("review", str(augmented), "--sample", "4", "--seed", "5")
    again = run_cli("review", str(augmented), "--sample", "4", "--seed", "5")
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout == again.stdout
    heads = lambda out: re.findall(r"^\d+\. (\S+)", out.decode(), re.M)  # noqa: E731
    assert len(heads(first.stdout)) == 4
    others = {tuple(heads(run_cli("review", str(augmented), "--sample", "4", "--seed", str(s)).stdout)) for s in range(1, 5)}
    assert others - {tuple(heads(first.stdout))}
    page_a, page_b = tmp_path / "a.html", tmp_path / "b.html"
    run_cli("review", str(augmented), "--sample", "4", "--seed", "5", "--html", str(page_a))
    run_cli("review", str(augmented), "--sample", "4", "--seed", "5", "--html", str(page_b))
    assert page_a.read_bytes() == page_b.read_bytes()


def test_the_page_shows_provenance_diff_and_rejects_with_reasons(augmented, tmp_path):
    page = tmp_path / "review.html"
    done = run_cli("review", str(augmented), "--sample", "3", "--html", str(page))
    assert done.returncode == 0, done.stderr.decode()
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<script" not in text and "http" not in text.replace("http-equiv", "")
    assert "default-src 'none'" in text  # nothing can be fetched, nothing can run
    assert text.count("<h2 id='v") == 3
    assert "samples/tavern.sharegpt.jsonl:" in text and "seed 7" in text
    assert "<b>typos</b> rate=0.1, max_chars=1; roles: user; variant" in text
    assert "compared with the original in this file" in text
    assert "<del>" in text and "<ins>" in text and "% of words changed" in text
    rejects = read_records(augmented.parent / "tavern.aug.jsonl.rejects.jsonl")
    assert f"Rejects: {len(rejects)}" in text
    assert "near-duplicates: near-duplicate of an earlier record or its source (similarity N)" in text  # counted by reason
    shown = [r for r in rejects if r["location"] in text and json.dumps(r["reason"])[1:-1] in text]
    assert len(shown) == 3  # a sample of them, each with its reason and place
    assert f"{len(rejects)}</td><td>near-duplicates" in text


def test_the_text_version_lists_word_diffs_and_reasons(augmented):
    done = run_cli("review", str(augmented), "--sample", "2")
    out = done.stdout.decode()
    assert "2 drawn with seed 0" in out and "typos" in out
    assert re.search(r"\[-\S+-\]\{\+\S+\+\}", out)
    assert re.search(r"^rejects: \d+$", out, re.M) and "near-duplicates" in out


def test_hostile_text_is_escaped(tmp_path):
    source = _record([("user", "Hello there <b>friend</b>"), ("assistant", "Welcome.")], file=str(tmp_path / "src.jsonl"))
    hostile = "<script>alert('x')</script> & \"quotes\""
    variant = _record([("user", f"Hello there {hostile}"), ("assistant", "Welcome.")], id="<img src=x onerror=alert(1)>",
                      chain=[{"step": "<svg onload=alert(1)>", "options": {"rate": "</style><script>"}, "roles": ["user"], "variants": 1, "variant": 0}],
                      file=str(tmp_path / "src.jsonl"))
    variant["provenance"]["source"]["id"] = "r1"
    out = _write(tmp_path / "out.jsonl", [source, variant])
    _write(tmp_path / "out.jsonl.rejects.jsonl", [{"location": "<i>x</i>:1", "reason": "spam: <script>bad()</script>", "raw": "<script>raw()</script>"}])
    page = tmp_path / "page.html"
    done = run_cli("review", str(out), "--html", str(page))
    assert done.returncode == 0, done.stderr.decode()
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text and "<svg" not in text and "<b>friend" not in text and text.count("</style>") == 1
    plain = re.sub(r"</?(ins|del)>", "", text)  # the diff marks parts of it
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in plain
    assert "&lt;script&gt;raw()&lt;/script&gt;" in text and "spam: &lt;script&gt;bad()&lt;/script&gt;" in text


def test_sources_are_read_from_the_file_in_provenance_or_from_source(tmp_path):
    src = _write(tmp_path / "src.jsonl", [
        {"id": "a", "conversations": [{"from": "gpt", "value": "Welcome in."}, {"from": "human", "value": "A room, please."}, {"from": "gpt", "value": "Two silver."}]},
    ])
    repairs = ["folded the assistant greeting into the system prompt"]
    variant = _record([("user", "A bed, please."), ("assistant", "Two silver.")], id="a", chain=TYPOS, file=str(src), repairs=repairs)
    variant["system"] = "Welcome in."
    out = _write(tmp_path / "out.jsonl", [variant])  # written with --no-originals
    done = run_cli("review", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert "user: A [-room-]{+bed+}, please." in done.stdout.decode()  # the greeting folded as the run did: turns line up
    assert "assistant:" not in done.stdout.decode()
    other = _write(tmp_path / "other.jsonl", [{"id": "a", "conversations": [{"from": "human", "value": "A hut, please."}, {"from": "gpt", "value": "Two silver."}]}])
    done = run_cli("review", str(out), "--source", str(other))
    assert "user: A [-hut-]{+bed+}, please." in done.stdout.decode()
    (tmp_path / "src.jsonl").unlink()
    done = run_cli("review", str(out))
    assert "source not found" in done.stdout.decode()


def test_a_file_without_variants_says_so(tmp_path):
    page = tmp_path / "p.html"
    done = run_cli("review", str(SAMPLES / "tavern.sharegpt.jsonl"), "--html", str(page))
    assert done.returncode == 0, done.stderr.decode()
    assert "No variants in this file" in page.read_text() and "Rejects: 0" in page.read_text()
