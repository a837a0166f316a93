"""An LSH index of MinHash values kept on disk, for the near-duplicates filter.

datasketch's ``MinHashLSH`` keeps every band of every record in memory (with
the record's values beside it, ~3 KB a record at 128 permutations): a filter
over a million records would hold gigabytes. This index cuts the values into
the same bands as ``MinHashLSH(threshold, num_perm)`` (it asks datasketch for
them), so it returns the same candidates, but keeps bands and values in a
private temporary SQLite database (in ``TMPDIR``; SQLite deletes it when the
index is closed or the process ends), with a bounded page cache: memory stays
flat whatever the number of records.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterator

#: SQLite's page cache, in KiB (its default is 2 MiB; more saves reads on large runs).
CACHE_KIB = 16 * 1024


class MinHashIndex:
    def __init__(self, threshold: float, num_perm: int) -> None:
        from datasketch import MinHashLSH

        self.ranges = list(MinHashLSH(threshold=threshold, num_perm=num_perm).hashranges)
        self.db = sqlite3.connect("")  # "": a private on-disk database, deleted on close
        self.db.executescript(
            f"""
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA cache_size = -{CACHE_KIB};
            CREATE TABLE bucket (key BLOB NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, id)) WITHOUT ROWID;
            CREATE TABLE hashes (id INTEGER PRIMARY KEY, vals BLOB NOT NULL);
            """
        )
        self.size = 0

    def _keys(self, values: Any) -> list[bytes]:
        """One key per band: the band's number and its slice of the values."""
        return [band.to_bytes(2, "big") + values[start:end].tobytes() for band, (start, end) in enumerate(self.ranges)]

    def insert(self, values: Any) -> None:
        """Index one record's MinHash values (a numpy array)."""
        rowid = self.size
        self.db.execute("INSERT INTO hashes VALUES (?, ?)", (rowid, values.tobytes()))
        self.db.executemany("INSERT INTO bucket VALUES (?, ?)", [(key, rowid) for key in self._keys(values)])
        self.size += 1

    def candidates(self, values: Any) -> Iterator[Any]:
        """The values of every indexed record sharing a band with ``values``
        (what ``MinHashLSH.query`` finds), in the order they were indexed."""
        import numpy as np

        keys = self._keys(values)
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT vals FROM hashes WHERE id IN (SELECT id FROM bucket WHERE key IN ({marks})) ORDER BY id", keys
        )
        for (blob,) in rows:
            yield np.frombuffer(blob, dtype=values.dtype)

    def close(self) -> None:
        self.db.close()
