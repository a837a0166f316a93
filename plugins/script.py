"""Named-speaker scripts: ``Name: utterance`` or ``Name：utterance`` lines.

A script is a text file (``.txt``). Each scene is one conversation; a scene
starts at a heading line (``# Scene 1: ...``) or a ``---`` line. Blank lines are
ignored; a line without a speaker continues the previous utterance. ``--as
NAME`` says whose lines are the assistant's; every other speaker is on the user
side and keeps their name on the turn.
"""

from __future__ import annotations

from typing import Any, Iterator

import augment
from augment import ASSISTANT, USER, Conversation, Format, Location, RecordError, Turn, UsageError, type_name

SPEAKER = augment.LazyPattern(r"^\s*([^\W\d_][\w .'’·\-]{0,39}?)\s*[:：]\s*(.*)$")
HEADING = augment.LazyPattern(r"^\s*(?:#+\s*(.*?)\s*|-{3,}\s*)$")


class Script(Format):
    name = "script"
    summary = "named-speaker script (.txt): 'Name: line' or 'Name：line', scenes split by '# heading' or '---'"
    suffixes = (".txt",)
    writable = False
    options = {"speaker": "the speaker the assistant plays (--as NAME)"}

    def __init__(self, speaker: str | None = None) -> None:
        self.speaker = speaker

    def configure(self, **options: Any) -> "Script":
        super().configure(**options)
        speaker = options.get("speaker")
        return Script(speaker) if speaker else self

    def read(self, stream, file: str) -> Iterator[tuple[Location, Any]]:
        scene: dict[str, Any] | None = None
        start = 1
        for lineno, raw in enumerate(stream, 1):
            text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8", errors="strict").rstrip("\r\n")
            heading = HEADING.match(text)
            if heading:
                if scene and scene["lines"]:
                    yield Location(file, start), scene
                scene, start = {"scene": heading.group(1) or "", "lines": []}, lineno
                continue
            if not text.strip():
                continue
            if scene is None:
                scene, start = {"scene": "", "lines": []}, lineno
            match = SPEAKER.match(text)
            if match:
                scene["lines"].append({"speaker": match.group(1).strip(), "text": match.group(2), "line": lineno})
            elif scene["lines"]:
                scene["lines"][-1]["text"] += "\n" + text.strip()
            else:
                scene.setdefault("narration", []).append(text.strip())
        if scene and scene["lines"]:
            yield Location(file, start), scene

    def decode(self, record: Any) -> Conversation:
        if not isinstance(record, dict) or not isinstance(record.get("lines"), list):
            raise RecordError(f"a script scene must be an object with 'lines', got {type_name(record)}")
        speakers = list(dict.fromkeys(line["speaker"] for line in record["lines"]))
        if not self.speaker:
            raise UsageError(f"script input needs --as NAME to say who the assistant is (speakers: {', '.join(speakers)})")
        if self.speaker not in speakers:
            raise RecordError(f"{self.speaker!r} does not speak in this scene (speakers: {', '.join(speakers)})")
        turns = [
            Turn(ASSISTANT if line["speaker"] == self.speaker else USER, line["text"], line["speaker"])
            for line in record["lines"]
        ]
        extra = {"scene": record.get("scene", "")}
        if record.get("narration"):
            extra["narration"] = record["narration"]
        return Conversation(turns=turns, extra=extra)


@augment.hookimpl
def register_formats(register):
    register(Script())
