"""MinHash signatures for ``augment stats``, without importing datasketch.

Importing ``datasketch`` loads its LSH module and with it SciPy: a second or
more before ``stats`` can print anything. The signature itself is a few numpy
lines, written here exactly as datasketch (2.x, its default ``affine32``
scheme) computes ``MinHash(num_perm, seed).update_batch(values).hashvalues``:
each value's SHA-1 (first 4 bytes, little-endian), mixed by the MurmurHash3
finalizer, then ``a * h + b`` modulo 2**32 for each permutation, the minimum
kept. tests/test_stats_report.py checks the values against datasketch's own.
The LSH forest of large corpora still comes from datasketch.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache
from typing import Any, Iterable

_MAX = (1 << 32) - 1
#: A digest's first 4 bytes as a little-endian number (without slicing them off first).
_FIRST_WORD = struct.Struct("<I").unpack_from


@lru_cache(maxsize=None)
def permutations(num_perm: int, seed: int) -> tuple[Any, Any]:
    """The ``(a, b)`` of each permutation, drawn as datasketch draws them."""
    import numpy as np

    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(hv: Any) -> Any:
    import numpy as np

    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def hashvalues(values: Iterable[bytes], num_perm: int, seed: int) -> Any:
    """The MinHash of ``values`` (bytes): a uint32 array of ``num_perm`` minima."""
    import numpy as np

    first, sha1 = _FIRST_WORD, hashlib.sha1
    hashed = [first(sha1(v).digest())[0] for v in values]
    empty = np.full(num_perm, _MAX, dtype=np.uint32)
    if not hashed:
        return empty
    a, b = permutations(num_perm, seed)
    hv = _fmix32(np.array(hashed, dtype=np.uint32).reshape(-1, 1))
    return np.minimum(empty, (hv * a + b).min(axis=0))
