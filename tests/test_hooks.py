"""One test per hook, each through a real installed plugin (a dist-info with
entry points on PYTHONPATH), plus the meta-tests that keep the hook surface
honest: every hook has a test here and an entry in docs/hooks.md."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from pathlib import Path

from conftest import ROOT, install_plugin, read_records, run_cli

from augment import reference

FORMAT_PLUGIN = '''
import augment
from augment.conversation import Conversation, Turn
from augment.dataio.formats import Format

class Pairs(Format):
    name = "pairs"
    summary = "question/answer pairs"

    def detect(self, record):
        return "q" in record and "a" in record

    def decode(self, record):
        return Conversation([Turn("user", record["q"]), Turn("assistant", record["a"])])

    def encode(self, conv):
        return {"q": conv.dialogue[0].content, "a": conv.dialogue[1].content}

@augment.hookimpl
def register_formats(register):
    register(Pairs())
'''

AUGMENTER_PLUGIN = '''
import augment
from augment.engine.augmenters import TextAugmenter

class Reverse(TextAugmenter):
    name = "reverse-words"
    summary = "reverse the word order"

    def augment_text(self, text, rng):
        return " ".join(reversed(text.split(" ")))

@augment.hookimpl
def register_augmenters(register):
    register(Reverse)
'''

FILTER_PLUGIN = '''
import augment
from augment.engine.augmenters import Option
from augment.engine.filters import Filter

class Short(Filter):
    name = "max-turns"
    summary = "drop long conversations"
    options = (Option("max", int, 4, "most dialogue turns"),)

    def check(self, conversation, context):
        n = len(conversation.dialogue)
        return f"{n} dialogue turns" if n > self.values["max"] else None

@augment.hookimpl
def register_filters(register):
    register(Short)
'''

IMPORTER_PLUGIN = '''
import augment
from augment.corpus.personas import PersonaImporter

class Ini(PersonaImporter):
    name = "ini"
    summary = "name=... lines"

    def can_read(self, path, head):
        return path.suffix == ".ini"

    def read(self, path):
        fields = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        return {"spec": "chara_card_v2", "spec_version": "2.0", "data": fields}

@augment.hookimpl
def register_persona_importers(register):
    register(Ini())
'''


def _env(tmp_path, module_source, entry="thing"):
    site = install_plugin(tmp_path / "site", "augment-thing", {"thing_plugin": module_source}, {entry: "thing_plugin"})
    return {"PYTHONPATH": str(site)}


def test_hook_register_formats(tmp_path):
    env = _env(tmp_path, FORMAT_PLUGIN)
    src = tmp_path / "qa.jsonl"
    src.write_text('{"q": "Any rooms?", "a": "*nods* One, upstairs."}\n')
    out = tmp_path / "qa.sharegpt.jsonl"
    done = run_cli("convert", str(src), "--to", "sharegpt", "-o", str(out), "-q", env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert read_records(out) == [{"conversations": [{"from": "human", "value": "Any rooms?"}, {"from": "gpt", "value": "*nods* One, upstairs."}]}]
    back = tmp_path / "back.jsonl"
    assert run_cli("convert", str(out), "--to", "pairs", "-o", str(back), "-q", env=env).returncode == 0
    assert read_records(back) == [{"q": "Any rooms?", "a": "*nods* One, upstairs."}]


def test_hook_register_augmenters(tmp_path):
    env = _env(tmp_path, AUGMENTER_PLUGIN)
    src = tmp_path / "in.jsonl"
    src.write_text('{"conversations": [{"from": "human", "value": "one two three"}, {"from": "gpt", "value": "*waves* four five"}]}\n')
    out = tmp_path / "out.jsonl"
    done = run_cli("run", str(src), "-o", str(out), "--no-originals", "-q", "reverse-words", env=env)
    assert done.returncode == 0, done.stderr.decode()
    [record] = read_records(out)
    assert [m["value"] for m in record["conversations"]] == ["three two one", "*waves* five four"]


def test_hook_register_filters(tmp_path):
    env = _env(tmp_path, FILTER_PLUGIN)
    out = tmp_path / "short.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    source = ROOT / "samples" / "tavern.sharegpt.jsonl"
    done = run_cli("filter", str(source), "-o", str(out), "--on-error", "skip", "--rejects", str(rejects), "max-turns", "--max", "6", env=env)
    assert done.returncode == 0, done.stderr.decode()
    kept = read_records(out)
    dropped = read_records(rejects)
    assert all(len(r["conversations"]) <= 6 for r in kept)
    assert len(kept) + len(dropped) == 12
    assert all(d["reason"].startswith("max-turns: ") and d["reason"].endswith(" dialogue turns") for d in dropped)
    assert all(len(d["output"]["conversations"]) > 6 for d in dropped)
    assert "max-turns: filtered out" in done.stderr.decode()


def test_hook_register_persona_importers(tmp_path):
    env = _env(tmp_path, IMPORTER_PLUGIN)
    card = tmp_path / "tam.ini"
    card.write_text("name=Old Tam\ndescription=A retired fisherman who always looks half-starved.\n")
    folder = tmp_path / "personas"
    done = run_cli("personas", "import", str(card), "--dir", str(folder), env=env)
    assert done.returncode == 0, done.stderr.decode()
    saved = json.loads((folder / "old-tam.json").read_text())
    assert saved["data"]["name"] == "Old Tam" and saved["spec"] == "chara_card_v2"


def test_builtin_png_card_importer_keeps_every_field(tmp_path):
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Mira", "description": "Tavern keeper", "extensions": {"world": "Saltmere"}, "x_custom": [1, 2]}}
    png = _png_with_text("chara", base64.b64encode(json.dumps(card).encode()).decode())
    path = tmp_path / "mira.png"
    path.write_bytes(png)
    folder = tmp_path / "personas"
    done = run_cli("personas", "import", str(path), "--dir", str(folder))
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads((folder / "mira.json").read_text()) == card
    again = run_cli("personas", "import", str(path), "--dir", str(folder))
    assert again.returncode == 1 and "exists (use --force" in again.stderr.decode()
    shown = run_cli("personas", "show", "Mira", "--dir", str(folder))
    assert json.loads(shown.stdout) == card


def _png_with_text(key: str, text: str) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tEXt", key.encode() + b"\0" + text.encode()) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# -- meta-tests ---------------------------------------------------------------------


def test_every_hook_has_a_test_here():
    names = {name for name, _, _ in reference.hooks()}
    tests = set(re.findall(r"^def test_hook_(\w+)\(", Path(__file__).read_text(), re.M))
    assert names == tests


def test_every_hook_is_documented_with_its_exact_signature():
    docs = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    for name, signature, doc in reference.hooks():
        assert f"## `{name}`" in docs
        assert signature in docs
        assert doc.splitlines()[0] in docs
    assert docs == reference.markdown(), "docs/hooks.md is stale: run python -m augment.reference > docs/hooks.md"
