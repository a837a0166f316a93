import json
from pathlib import Path

from augment.testing import check_format

from augment_roleplay_extras.pippa import Pippa

DATA = Path(__file__).parent / "data" / "pippa.jsonl"


def records():
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def test_pippa_round_trips_through_the_kit_check():
    fmt = Pippa()
    check_format(fmt, [fmt.decode(r) for r in records()])


def test_decoded_turns():
    conv = Pippa().decode(records()[0])
    assert conv.system.startswith("Mira keeps the Drowned Lantern")
    assert [t.role for t in conv.dialogue] == ["assistant", "user", "assistant", "user", "assistant"]
    assert {t.name for t in conv.dialogue if t.role == "assistant"} == {"Mira"}
    assert conv.extra["bot_id"] == "b-0001" and conv.extra["categories"] == ["fantasy", "tavern"]


def test_a_chain_using_both_plugins_runs_from_the_command_line(tmp_path, augment_cli):
    out = tmp_path / "out.jsonl"
    result = augment_cli(
        "run", str(DATA), "-o", str(out), "--seed", "3", "--to", "sharegpt", "--greeting", "fold-into-system",
        "--workers", "1", "address", "--rate", "1.0",
    )
    assert result.exit_code == 0, result.stderr
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(written) == 6  # 3 originals and 3 variants
    variant = written[1]
    assert variant["provenance"]["chain"][0]["step"] == "address"
    assert variant["conversations"][0]["from"] == "human"
    assert "Mira" in variant["conversations"][0]["value"]
    assert variant["bot_id"] == "b-0001"
