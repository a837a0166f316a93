"""augment generate: conversations rendered from a sandboxed Jinja2 template,
through the usual run (filters, rejects, dataset_info.json, card)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import SAMPLES, read_records, run_cli

from augment import plugins
from augment.corpus.generate import TemplateFormat
from augment.errors import RecordError, UsageError

REG = plugins.load()
TEMPLATES = SAMPLES / "templates"

TAVERN = """{# as: Mira #}
System: You are Mira, keeper of the {{ inn }}. Tonight you are {{ mood }}.
{% set guest = fake.first_name() %}
{{ guest }}: *comes in from the {{ weather }}* A room, please.
Mira: *{{ pick(["nods", "shrugs", "sighs"]) }}* {{ fake.random_int(2, 9) }} silver, {{ guest }}.
"""
TAVERN_VARS = """
slots:
  inn: [Drowned Lantern, Gull's Rest, Salt Barrel]
  mood: {tired: 2, cheerful: 1}
  weather: [rain, fog]
lists:
  unused: [a, b]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tavern(tmp_path):
    write(tmp_path, "tavern.vars.yaml", TAVERN_VARS)
    return write(tmp_path, "tavern.jinja", "{# vars: tavern.vars.yaml #}\n" + TAVERN)


def rendered(path: Path, **options) -> list[tuple[str, dict]]:
    """``(location, record)`` for every record the template gives, read as the run reads it."""
    fmt = TemplateFormat(str(path), REG.formats, **options)
    with open(path, "rb") as stream:
        return [(str(loc), record) for loc, record in fmt.read(stream, str(path))]


def conversations(path: Path, **options):
    fmt = TemplateFormat(str(path), REG.formats, **options)
    with open(path, "rb") as stream:
        return [fmt.decode(record) for _, record in fmt.read(stream, str(path))], fmt


# -- determinism -------------------------------------------------------------------
def test_the_same_seed_gives_the_same_bytes_for_any_number_of_workers(tmp_path):
    outs = []
    for name, workers in (("a", "1"), ("b", "2"), ("c", "1")):
        out = tmp_path / name / "npc.jsonl"
        done = run_cli("generate", str(TEMPLATES / "npc_quest.jinja"), "--n", "40", "--seed", "7", "-o", str(out), "--workers", workers, "-q")
        assert done.returncode == 0, done.stderr.decode()
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    assert len(outs[0].splitlines()) == 40
    other = tmp_path / "d.jsonl"
    assert run_cli("generate", str(TEMPLATES / "npc_quest.jinja"), "--n", "40", "--seed", "8", "-o", str(other), "-q").returncode == 0
    assert other.read_bytes() != outs[0]


def test_a_record_does_not_depend_on_the_others(tavern):
    few, _ = conversations(tavern, n=3, seed=5)
    many, _ = conversations(tavern, n=12, seed=5)
    assert [c.text_key() for c in few] == [c.text_key() for c in many[: len(few)]]
    assert [c.provenance["template"]["record"] for c in few] == [1, 2, 3]


def test_faker_and_the_helpers_are_seeded_per_record(tavern):
    first, _ = conversations(tavern, n=10, seed=1)
    again, _ = conversations(tavern, n=10, seed=1)
    assert [c.text_key() for c in first] == [c.text_key() for c in again]
    guests = {c.turns[1].name for c in first}
    assert len(guests) > 3  # fake.first_name() differs from record to record


# -- what a record is -------------------------------------------------------------
def test_a_script_renders_named_turns_and_a_system_prompt(tavern):
    convs, _ = conversations(tavern, n=1, seed=2)
    conv = convs[0]
    assert [t.role for t in conv.turns] == ["system", "user", "assistant"]
    assert conv.turns[0].content.startswith("You are Mira, keeper of the ")
    assert conv.turns[2].name == "Mira" and conv.turns[1].name not in (None, "Mira")
    assert conv.extra == {}  # no empty 'scene' column


def test_provenance_names_the_template_its_hash_and_the_slot_values(tavern):
    convs, fmt = conversations(tavern, n=4, seed=9)
    made = convs[2].provenance["template"]
    assert made["file"] == str(tavern)
    assert made["sha256"] == hashlib.sha256(tavern.read_bytes()).hexdigest()
    assert made["seed"] == 9 and made["record"] == 3
    assert set(made["slots"]) == {"inn", "mood", "weather"}
    assert made["slots"]["inn"] in convs[2].turns[0].content
    assert made["vars"] == {"file": str(tavern.parent / "tavern.vars.yaml"), "sha256": hashlib.sha256((tavern.parent / "tavern.vars.yaml").read_bytes()).hexdigest()}
    assert made["faker"]


def test_weighted_slots_follow_their_weights(tavern):
    convs, _ = conversations(tavern, n=300, seed=4)
    moods = [c.provenance["template"]["slots"]["mood"] for c in convs]
    assert 0.55 < moods.count("tired") / len(moods) < 0.8


def test_a_json_template_is_read_by_the_registered_formats(tmp_path):
    template = write(tmp_path, "support.jinja", """{# format: openai #}
{"messages": [
  {"role": "system", "content": {{ ("You help customers of " ~ shop) | tojson }}},
  {"role": "user", "content": {{ ("Where is order " ~ fake.numerify("####") ~ "?") | tojson }}},
  {"role": "assistant", "content": {{ pick(["On its way.", "It left today."]) | tojson }}}
]}
""")
    vars_ = write(tmp_path, "v.yaml", "slots:\n  shop: [Lantern & Co, \"Quote\\\" Shop\"]\n")
    out = tmp_path / "out.jsonl"
    done = run_cli("generate", str(template), "--vars", str(vars_), "--n", "6", "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr.decode()
    records = read_records(out)
    assert len(records) == 6 and all("messages" in r for r in records)  # written as the format it renders
    assert any('Quote" Shop' in r["messages"][0]["content"] for r in records)
    auto = write(tmp_path, "auto.jinja", '{"conversations": [{"from": "human", "value": "hi {{ record }}"}, {"from": "gpt", "value": "hello"}]}')
    convs, _ = conversations(auto, n=2)
    assert [c.turns[0].content for c in convs] == ["hi 1", "hi 2"]  # JSON recognised by its fields


def test_the_chinese_sample_uses_chinese_fake_data():
    convs, _ = conversations(TEMPLATES / "support_zh.jinja", n=5, seed=3)
    for conv in convs:
        customer = conv.turns[1].name
        assert conv.turns[0].role == "system" and conv.turns[2].name == "小安"
        assert 2 <= len(customer) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in customer)
        text = "".join(t.content for t in conv.turns)
        assert "订单号是QH" in text and "收货地址是" in text
        assert conv.turns[4].content.startswith("查到了，" + customer[0])
    assert len({c.turns[1].name for c in convs}) == 5


def test_the_english_sample_renders_multi_turn_quests():
    convs, _ = conversations(TEMPLATES / "npc_quest.jinja", n=20, seed=1)
    assert all(len(c.dialogue) == 8 and c.dialogue[1].name == "Garrick" for c in convs)
    quests = {c.provenance["template"]["slots"]["quest"]["task"] for c in convs}
    assert len(quests) > 4


# -- enumeration and duplicates ------------------------------------------------------
def test_enumerate_walks_every_combination_of_the_slots(tavern):
    records = rendered(tavern, enumerate=True)
    assert len(records) == 3 * 2 * 2
    combos = {(r["slots"]["inn"], r["slots"]["mood"], r["slots"]["weather"]) for _, r in records}
    assert len(combos) == 12
    assert len(rendered(tavern, enumerate=True, n=5)) == 5  # --n caps it
    assert len(rendered(TEMPLATES / "npc_quest.jinja", enumerate=True)) == 4 * 8 * 3


def test_enumerate_needs_slots(tmp_path):
    plain = write(tmp_path, "plain.jinja", "{# as: A #}\nB: hi\nA: hello\n")
    with pytest.raises(UsageError, match="--enumerate walks the slots of the vars file, and it has none"):
        TemplateFormat(str(plain), REG.formats, enumerate=True)
    with pytest.raises(UsageError, match="say how many records to render with --n N"):
        TemplateFormat(str(plain), REG.formats)


def test_duplicates_are_left_out_and_counted(tmp_path):
    template = write(tmp_path, "dull.jinja", "{# as: Mira #}\nRhys: {{ pick(['Ale.', 'Wine.']) }}\nMira: Coming up.\n")
    out = tmp_path / "dull.jsonl"
    done = run_cli("generate", str(template), "--n", "10", "--as", "Mira", "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert len(read_records(out)) == 2
    err = done.stderr.decode()
    assert "read 2, written 2" in err
    assert "template: duplicate rendering(s) left out: 8 record(s)" in err
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "dull.jinja" in card


# -- errors -------------------------------------------------------------------------
def test_a_record_that_fails_to_render_is_rejected_with_its_number(tmp_path):
    template = write(tmp_path, "flaky.jinja", "{# as: Mira #}\nRhys: hi {{ record }}\n{% if record == 2 %}{{ missing }}{% endif %}\nMira: hello\n")
    out = tmp_path / "flaky.jsonl"
    done = run_cli("generate", str(template), "--n", "3", "-o", str(out), "--on-error", "skip")
    assert done.returncode == 0, done.stderr.decode()
    assert len(read_records(out)) == 2
    line = f"{template}:record 2: UndefinedError: 'missing' is undefined (line 3)"
    assert line in done.stderr.decode()
    rejects = read_records(tmp_path / "flaky.jsonl.rejects.jsonl")
    assert rejects[0]["location"] == f"{template}:record 2" and rejects[0]["record"]["slots"] == {}
    stopped = run_cli("generate", str(template), "--n", "3", "-o", str(out))
    assert stopped.returncode == 1 and line in stopped.stderr.decode()


def test_a_script_needs_to_know_who_the_assistant_is(tmp_path):
    template = write(tmp_path, "who.jinja", "Rhys: hi\nMira: hello\n")
    done = run_cli("generate", str(template), "--n", "1", "-o", str(tmp_path / "o.jsonl"))
    assert done.returncode == 1
    assert f"{template} renders a script: say who the assistant is with --as NAME or a '{{# as: NAME #}}' line at its top" in done.stderr.decode()
    with pytest.raises(RecordError, match="'Garrick' does not speak in this scene"):
        conversations(template, n=1, speaker="Garrick")


def test_syntax_errors_and_bad_vars_stop_before_the_run(tmp_path):
    broken = write(tmp_path, "broken.jinja", "{# as: A #}\nB: {% if %}\nA: hi\n")
    with pytest.raises(UsageError, match=r"broken.jinja:2: template syntax error: Expected an expression, got 'end of statement block'"):
        TemplateFormat(str(broken), REG.formats, n=1)
    plain = write(tmp_path, "plain.jinja", "{# as: A #}\nB: hi\nA: {{ x }}\n")
    for text, why in (
        ("x: [1]", "a vars file is a mapping with 'slots' and 'lists'"),
        ("slots:\n  fake: [1]", "'fake' cannot be a name in a template"),
        ("slots:\n  x: []", "x must be a non-empty list"),
        ("slots:\n  x: {a: -1}", "weights must be numbers >= 0"),
        ("slots:\n  x: [1]\nlists:\n  x: [2]", "x is both a slot and a list"),
        ("slots: [", "invalid YAML"),
    ):
        with pytest.raises(UsageError, match=why):
            TemplateFormat(str(plain), REG.formats, n=1, vars_path=str(write(tmp_path, "v.yaml", text)))


# -- the sandbox ----------------------------------------------------------------------
ESCAPES = {
    "{{ ''.__class__ }}": "a template may not do this: access to attribute '__class__' of 'str' object is unsafe.",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}": "access to attribute '__class__' of 'str' object is unsafe",
    "{{ fake.__class__ }}": "fake has no method '__class__' a template may call",
    "{{ fake.seed_instance(1) }}": "fake has no method 'seed_instance' a template may call",
    "{{ fake.random.seed(1) }}": "fake has no method 'random' a template may call",
    "{{ fake['factories'] }}": "fake has no method 'factories' a template may call",
    "{{ fake_zh.pystr_format('{{seed_instance}}') }}": "fake_zh has no method 'pystr_format'",
    "{{ (fake|attr('_pool')) }}": "fake has no method '_pool' a template may call",
    "{{ (fake|attr('method'))('name') }}": "fake has no method 'method' a template may call",
    "{{ [fake]|map(attribute='seed_instance')|first }}": "fake has no method 'seed_instance'",
    "{{ fake.method('name') }}": "fake has no method 'method'",
    "{{ pick.__globals__ }}": "access to attribute '__globals__' of 'function' object is unsafe",
    "{{ cycler.__init__.__globals__.os }}": "access to attribute '__init__'",
    "{{ '{0.__class__}'.format(1) }}": "access to attribute '__class__' of 'int' object is unsafe",
    "{{ [1].append(2) }}": "access to attribute 'append' of 'list' object is unsafe",
    "{{ self.__init__ }}": "access to attribute '__init__'",
    "{% include '/etc/passwd' %}": "a template cannot include, import or extend other files ('/etc/passwd')",
    "{% import '/etc/hostname' as h %}": "a template cannot include, import or extend other files ('/etc/hostname')",
    "{% extends '../../etc/passwd' %}": "a template cannot include, import or extend other files ('../../etc/passwd')",
    "{% from 'x.jinja' import y %}": "a template cannot include, import or extend other files ('x.jinja')",
}


@pytest.mark.parametrize("attack", sorted(ESCAPES))
def test_a_template_cannot_leave_its_sandbox(tmp_path, attack):
    template = write(tmp_path, "evil.jinja", "{# as: Mira #}\nRhys: hi\nMira: " + attack + "\n")
    fmt = TemplateFormat(str(template), REG.formats, n=2)
    with pytest.raises(UsageError) as caught, open(template, "rb") as stream:
        list(fmt.read(stream, str(template)))
    message = str(caught.value)
    assert ESCAPES[attack] in message
    assert "line 3" in message or "cannot include" in message
    assert "root:" not in message and "<class" not in message and "object at 0x" not in message


def test_lipsum_and_the_random_filter_do_not_use_the_global_generator(tmp_path):
    template = write(tmp_path, "r.jinja", "{# as: A #}\nB: {{ [1, 2, 3, 4, 5, 6, 7, 8] | random }}\nA: ok\n")
    first, _ = conversations(template, n=20, seed=1)
    again, _ = conversations(template, n=20, seed=1)
    assert [c.turns[0].content for c in first] == [c.turns[0].content for c in again]
    lipsum = write(tmp_path, "l.jinja", "{# as: A #}\nB: {{ lipsum() }}\nA: ok\n")
    with pytest.raises(RecordError, match="'lipsum' is undefined"):
        conversations(lipsum, n=1)


def test_an_escape_through_the_command_line_is_one_clear_error(tmp_path):
    template = write(tmp_path, "evil.jinja", "{# as: Mira #}\nRhys: hi\nMira: {% include '/etc/passwd' %}\n")
    out = tmp_path / "evil.jsonl"
    done = run_cli("generate", str(template), "--n", "3", "-o", str(out), "--on-error", "skip")
    assert done.returncode == 1
    err = done.stderr.decode()
    assert err.strip() == f"Error: {template}: a template cannot include, import or extend other files ('/etc/passwd') (line 3)"
    assert not out.exists() and not (tmp_path / "evil.jsonl.rejects.jsonl").exists()


# -- through the command line ------------------------------------------------------------
def test_generate_writes_a_dataset_like_any_run(tmp_path):
    out = tmp_path / "zh.json"
    done = run_cli("generate", str(TEMPLATES / "support_zh.jinja"), "--n", "8", "--seed", "2", "-o", str(out), "--to", "openai", "--filter", "exact-duplicates")
    err = done.stderr.decode()
    assert done.returncode == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))
    assert len(records) == 8 and records[0]["messages"][0]["role"] == "system"
    assert records[0]["provenance"]["template"]["file"].endswith("support_zh.jinja")
    info = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))
    assert "zh" in info
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "augment generate" in card and "safety" in card


def test_generate_help_says_what_a_template_sees():
    done = run_cli("generate", "--help")
    assert done.returncode == 0
    text = done.stdout.decode()
    for words in ("--enumerate", "--vars", "--as NAME", "fake_zh", "pick(list)", "sandboxed"):
        assert words in text


def test_the_template_locale_sets_fake(tmp_path):
    template = write(tmp_path, "ja.jinja", "{# as: A #}\n{# locale: ja_JP #}\nB: {{ fake.name() }} / {{ fake_en.first_name() }}\nA: ok\n")
    convs, _ = conversations(template, n=3)
    assert all(any("\u3040" <= ch <= "\u9fff" for ch in c.turns[0].content.split(" / ")[0]) for c in convs)
    assert all(c.turns[0].content.split(" / ")[1].isascii() for c in convs)
    bad = write(tmp_path, "bad.jinja", "{# as: A #}\n{# locale: xx_YY #}\nB: hi\nA: ok\n")
    with pytest.raises(UsageError, match="unknown Faker locale 'xx_YY'"):
        TemplateFormat(str(bad), REG.formats, n=1)


def test_rendered_records_pass_the_safety_gate(tmp_path):
    # a short clinical sentence pair, as in test_safety: only the signal words side by side
    template = write(tmp_path, "gate.jinja", "{# as: A #}\nSystem: {{ age }} The scene turns sexual.\nB: hi\nA: hello\n")
    vars_ = write(tmp_path, "gate.yaml", "slots:\n  age: [The character is 15 years old., The character is 30 years old.]\n")
    out = tmp_path / "gate.jsonl"
    done = run_cli("generate", str(template), "--vars", str(vars_), "--enumerate", "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert len(read_records(out)) == 1
    rejects = read_records(tmp_path / "gate.jsonl.rejects.jsonl")
    assert [r["location"] for r in rejects] == [f"{template}:record 1"] and rejects[0]["reason"].startswith("safety: ")


def test_generate_to_stdout(tmp_path):
    template = write(tmp_path, "s.jinja", "{# as: A #}\nB: hi {{ record }}\nA: hello\n")
    done = run_cli("generate", str(template), "--n", "2", "-o", "-", "--to", "openai", "-q")
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert [json.loads(line)["messages"][0]["content"] for line in lines] == ["hi 1", "hi 2"]
