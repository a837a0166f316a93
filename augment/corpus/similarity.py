"""Each conversation's highest MinHash similarity to another one, for
``augment stats``: exact for up to :data:`EXACT_PAIRS` conversations, else
its best of the neighbours datasketch's ``MinHashLSHForest`` would return.

Past :data:`EXACT_PAIRS`, the signatures go to a private temporary file (in
``TMPDIR``, gone when it is closed or the process ends), and so do the
forest's sorted arrays, read back a few dozen records at a time: the memory
this takes does not grow with the corpus, but for about 24 bytes a
conversation while a tree is sorted (one column at a time).
"""

from __future__ import annotations

import os
from typing import IO, Any, Iterator

#: Conversations compared pairwise (exactly); above, an LSH forest.
EXACT_PAIRS = 2000
#: Rows read from the signatures file at once (1 MiB at 64 values a row).
CHUNK = 4096


class Signatures:
    """A corpus's MinHash rows (``num_perm`` uint32 values each), in order:
    in memory up to :data:`EXACT_PAIRS` rows, then in a temporary file."""

    def __init__(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self._memory = bytearray()
        self._file: IO[bytes] | None = None
        self.rows = 0

    def __len__(self) -> int:
        return self.rows

    def append(self, values: Any) -> None:
        data = values.tobytes()
        self.rows += 1
        if self._file is not None:
            self._file.write(data)
            return
        self._memory += data
        if self.rows > EXACT_PAIRS:
            import tempfile  # (a small corpus never needs it: 4 ms at start-up)

            self._file = tempfile.TemporaryFile(prefix="augment-stats-")
            self._file.write(self._memory)
            self._memory = bytearray()

    def highest_similarity(self) -> Iterator[float]:
        """Each row's highest similarity to another row, rounded to 4 digits, in order."""
        import numpy as np

        if self._file is None:
            yield from highest_similarity(np.frombuffer(self._memory, dtype=np.uint32).reshape(-1, self.num_perm))
            return
        self._file.flush()
        for best in forest_best_in(self._file.fileno(), self.rows, self.num_perm):
            yield round(best, 4)


def highest_similarity(values: Any) -> list[float]:
    """Each conversation's highest MinHash similarity to another one (``values``:
    a row of MinHash values per conversation), rounded to 4 digits: exact for up to
    :data:`EXACT_PAIRS` conversations, else its best of a few LSH-forest
    neighbours."""
    import numpy as np

    if len(values) < 2:
        return [0.0] * len(values)
    if len(values) <= EXACT_PAIRS:
        best = [float(np.delete((values == row).mean(axis=1), i).max()) for i, row in enumerate(values)]
        return [round(b, 4) for b in best]
    return [round(best, 4) for best in forest_best(values)]


def forest_best(values: Any, trees: int = 8, k: int = 4) -> list[float]:
    """:func:`forest_best_in` of the rows ``values`` (a 2-D uint32 array)."""
    import tempfile

    n, num_perm = values.shape
    with tempfile.TemporaryFile(prefix="augment-stats-") as fh:
        fh.write(values.astype("<u4").tobytes())
        fh.flush()
        return list(forest_best_in(fh.fileno(), n, num_perm, trees, k))


def forest_best_in(fd: int, n: int, num_perm: int, trees: int = 8, k: int = 4) -> Iterator[float]:
    """Each row's highest similarity to the other rows among what
    ``MinHashLSHForest(num_perm, l=trees).query(row, k)`` returns, for the
    ``n`` rows of ``num_perm`` uint32 values in the file ``fd``, found the way
    datasketch's forest finds them: its keys are a band's values in
    big-endian bytes, so their sorted order is the order of the values as
    numbers, ties in the order the rows were added. Each tree's rows in that
    order, with how many leading values each shares with the one before it,
    are kept in a second temporary file."""
    import tempfile

    import numpy as np

    if n < 2:
        yield from [0.0] * n
        return
    depth = num_perm // trees
    record = np.dtype([("row", "<i4"), ("shared", "u1")])
    with tempfile.TemporaryFile(prefix="augment-forest-") as forest:
        sorted_at = [t * n * record.itemsize for t in range(trees)]
        position_at = trees * n * record.itemsize
        for t in range(trees):
            order, shared, position = _sorted_band(fd, n, num_perm, range(t * depth, (t + 1) * depth))
            records = np.empty(n, dtype=record)
            records["row"], records["shared"] = order, shared
            os.pwrite(forest.fileno(), records.tobytes(), sorted_at[t])
            os.pwrite(forest.fileno(), position.astype("<i4").tobytes(), position_at + t * n * 4)
            del order, shared, position, records
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            rows = _rows(fd, start, stop, num_perm)
            places = [np.frombuffer(os.pread(forest.fileno(), (stop - start) * 4, position_at + (t * n + start) * 4), dtype="<i4").tolist()
                      for t in range(trees)]
            for i in range(start, stop):
                walks = [_Walk(forest.fileno(), sorted_at[t], n, places[t][i - start], record) for t in range(trees)]
                found = _neighbours(walks, depth, k)
                row = rows[i - start]
                yield max((float((_rows(fd, j, j + 1, num_perm)[0] == row).mean()) for j in found if j != i), default=0.0)


def _sorted_band(fd: int, n: int, num_perm: int, columns: range) -> tuple[Any, Any, Any]:
    """For one tree's band (``columns``): the rows in the order of their
    values (``np.lexsort`` of the band, made one column at a time: stable
    sorts from the last column to the first), how many leading values each
    row there shares with the one before it, and each row's place."""
    import numpy as np

    order = np.arange(n, dtype=np.int32)  # (row numbers: 4 bytes each suffice below 2**31 conversations)
    for c in reversed(columns):
        order = order[np.argsort(_column(fd, n, num_perm, c)[order], kind="stable")]
    shared = np.zeros(n, dtype=np.uint8)
    same = np.ones(n - 1, dtype=bool)
    for c in columns:
        ranked = _column(fd, n, num_perm, c)[order]
        same &= ranked[1:] == ranked[:-1]
        shared[1:] += same
    position = np.empty(n, dtype=np.int32)
    position[order] = np.arange(n, dtype=np.int32)
    return order, shared, position


def _column(fd: int, n: int, num_perm: int, c: int) -> Any:
    """Value ``c`` of every row, read from the file a chunk of rows at a time."""
    import numpy as np

    out = np.empty(n, dtype=np.uint32)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        out[start:stop] = _rows(fd, start, stop, num_perm)[:, c]
    return out


def _rows(fd: int, start: int, stop: int, num_perm: int) -> Any:
    """Rows ``start`` to ``stop`` (excluded) of the signatures file."""
    import numpy as np

    size = 4 * num_perm
    return np.frombuffer(os.pread(fd, (stop - start) * size, start * size), dtype="<u4").reshape(-1, num_perm)


class _Walk:
    """One tree's sorted rows around one row's place, read from the forest
    file as the walk reaches them (a few dozen records at a time)."""

    SPAN = 16

    def __init__(self, fd: int, offset: int, n: int, place: int, record: Any) -> None:
        self.fd, self.offset, self.n, self.place, self.record = fd, offset, n, place, record
        self.lo = self.hi = max(0, place - self.SPAN)
        self.rows: list[int] = []
        self.shared: list[int] = []
        self._read(max(0, place - self.SPAN), min(n, place + self.SPAN + 1))

    def _read(self, lo: int, hi: int) -> None:
        """Hold the records [lo, hi) (a range around the held ones)."""
        import numpy as np

        size = self.record.itemsize
        if lo < self.lo:
            got = np.frombuffer(os.pread(self.fd, (self.lo - lo) * size, self.offset + lo * size), dtype=self.record)
            self.rows[:0], self.shared[:0] = got["row"].tolist(), got["shared"].tolist()
            self.lo = lo
        if hi > self.hi:
            got = np.frombuffer(os.pread(self.fd, (hi - self.hi) * size, self.offset + self.hi * size), dtype=self.record)
            self.rows += got["row"].tolist()
            self.shared += got["shared"].tolist()
            self.hi = hi

    def at(self, p: int) -> tuple[int, int]:
        """(row, values shared with the row before) at sorted place ``p``."""
        span = max(self.SPAN, self.hi - self.lo)  # twice as many each time
        if p < self.lo:
            self._read(max(0, min(p, self.lo - span)), self.hi)
        elif p >= self.hi:
            self._read(self.lo, min(self.n, max(p + 1, self.hi + span)))
        return self.rows[p - self.lo], self.shared[p - self.lo]


def _neighbours(walks: list[_Walk], depth: int, k: int) -> set[int]:
    """What the forest's query returns for a row (``walks``: its place in each
    tree): the rows sharing the longest prefix of a band with it, tree by
    tree, until ``k`` are found."""
    found: set[int] = set()
    for r in range(depth, 0, -1):
        for walk in walks:
            p = walk.place
            while p > 0 and walk.at(p)[1] >= r:  # back to the first row sharing the prefix
                p -= 1
            while True:  # forward through the rows sharing it
                found.add(walk.at(p)[0])
                if len(found) >= k:
                    return found
                p += 1
                if p >= walk.n or walk.at(p)[1] < r:
                    break
    return found
