"""Writing an output as numbered JSON Lines shards in a folder
(``-o DIR/ --shard-records N``): ``DIR/part-00000.jsonl``, ``part-00001.jsonl``,
... with N records each (the last one fewer).

The shards are written in a hidden staging folder beside ``DIR``
(``.DIR.partial``) and moved into ``DIR`` only when the run succeeded, so a
crash never leaves a complete-looking set. A resumable run checkpoints which
shard it is writing and how long it is; ``--resume`` cuts that shard back to
its checkpoint, removes any shard after it, and goes on.

``DIR`` holds nothing but the shards: LLaMA-Factory reads a folder named as a
dataset's ``file_name`` by loading every file in it (all must share one
extension), and the ``datasets`` library reads ``DIR/*.jsonl``. The rejects
file, ``dataset_info.json`` and the dataset card go beside ``DIR``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any

from augment.dataio.streams import dumps
from augment.errors import UsageError

SHARD = "part-{:05d}.jsonl"
SHARD_NAME = re.compile(r"part-\d{5,}\.jsonl")
#: The glob for the shards, for the dataset card.
SHARD_GLOB = "part-*.jsonl"


def is_folder_output(path: str | None) -> bool:
    """``-o DIR/`` (or an existing folder) names a folder of shards."""
    return path is not None and path != "-" and (path.endswith(("/", os.sep)) or os.path.isdir(path))


def check_folder(path: str) -> None:
    """A folder output may hold only shards (an earlier run's, replaced)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{path}: not a folder")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if not SHARD_NAME.fullmatch(p.name))
        if others:
            shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
            raise UsageError(
                f"{path} holds files that are not shards ({shown}); LLaMA-Factory would load every file in it: choose an empty or new folder"
            )


def shards_in(path: str | Path) -> list[str]:
    """The shard file names in a folder, in order."""
    folder = Path(path)
    return sorted(p.name for p in folder.iterdir() if SHARD_NAME.fullmatch(p.name)) if folder.is_dir() else []


class ShardedOutput:
    """Records into numbered shards of ``per_shard`` records; the same
    interface as :class:`~augment.dataio.streams.AtomicFile` (``file``,
    ``commit``, ``abort``) and :class:`~augment.dataio.streams.RecordWriter`
    (``write``, ``write_encoded``, ``write_many``, ``count``, ``close``).

    ``staging`` is the hidden folder the shards are written in (None: a new
    temporary one); ``resume`` a checkpoint (``shard``, ``offset``, ``count``)
    to go on from."""

    def __init__(self, folder: str | Path, per_shard: int, staging: Path | None = None, resume: dict[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.per_shard = per_shard
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        if staging is None:
            import tempfile  # only here: its import is a tenth of a small command's start-up

            staging = Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.", suffix=".partial", dir=self.folder.parent))
        self.staging = staging
        self.count = 0
        #: The shard being written (its number).
        self.shard = 0
        self.file: IO[bytes] | None = None
        if resume is not None:
            self._resume(resume)
        else:
            import shutil  # here and below: a run without shards does not import it

            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging.mkdir()
            self._open(0)

    def _path(self, number: int) -> Path:
        return self.staging / SHARD.format(number)

    def _open(self, number: int, at: int | None = None) -> None:
        if self.file is not None:
            self.file.close()
        self.shard = number
        if at is None:
            self.file = open(self._path(number), "wb")
        else:
            self.file = open(self._path(number), "r+b")
            self.file.truncate(at)
            self.file.seek(at)

    def _resume(self, state: dict[str, Any]) -> None:
        shard, offset = state.get("shard", 0), state["offset"]
        if not self._path(shard).is_file():
            raise UsageError(f"cannot resume: the shard {SHARD.format(shard)} of the interrupted run is gone from {self.staging}")
        for name in shards_in(self.staging):
            if int(name[5:-6]) > shard:
                (self.staging / name).unlink()  # written after the checkpoint
        self._open(shard, offset)
        self.count = state["count"]

    # -- RecordWriter ----------------------------------------------------------------
    def write(self, record: dict[str, Any]) -> None:
        self.write_encoded(dumps(record))

    def write_encoded(self, data: bytes) -> None:
        if self.count and self.count % self.per_shard == 0:
            self._open(self.shard + 1)
        assert self.file is not None
        self.file.write(data)
        self.file.write(b"\n")
        self.count += 1

    def write_many(self, data: list[bytes]) -> None:
        for one in data:
            self.write_encoded(one)

    def close(self) -> None:
        if self.file is not None:
            self.file.flush()

    # -- AtomicFile ------------------------------------------------------------------
    def commit(self) -> None:
        """Move the shards into the folder, replacing an earlier run's."""
        assert self.file is not None
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if self.count == 0:
            self._path(0).unlink(missing_ok=True)  # no records, no shard
        for name in shards_in(self.staging):
            fd = os.open(self.staging / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(self.staging / name, 0o644 & ~_umask())
        os.chmod(self.staging, 0o755 & ~_umask())
        if self.folder.is_dir():
            check_folder(str(self.folder))  # still only shards
            for name in shards_in(self.folder):
                (self.folder / name).unlink()
            self.folder.rmdir()
        os.replace(self.staging, self.folder)

    def abort(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()
        import shutil

        shutil.rmtree(self.staging, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
