"""Id -> row lookups held as one sorted bytes array, not as a Python dict.

Why: at a million items (and users), a dict of str keys costs about 100 MB per lookup in Python
objects; a sorted fixed-width bytes array costs the ids' bytes, and a lookup is a binary search.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _keys(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if len(ids) == 0:
        return np.empty(0, dtype="S1")
    return np.asarray(pc.cast(ids, pa.binary()).to_numpy(zero_copy_only=False), dtype=np.bytes_)


class IdLookup:
    """The row of each id of an Arrow string column (null ids are left out; a repeated id: its first row)."""

    def __init__(self, ids: pa.Array | pa.ChunkedArray) -> None:
        ids = pa.chunked_array([ids]) if isinstance(ids, pa.Array) else ids
        rows = np.flatnonzero(pc.is_valid(ids).to_numpy(zero_copy_only=False)).astype(np.int64)
        keys = _keys(ids.take(pa.array(rows)))
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.rows = rows[order]

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key: str) -> int | None:
        """The row of `key`, or None."""
        b = key.encode("utf-8", "surrogatepass")
        if not len(self.keys) or b"\x00" in b:  # numpy bytes drop trailing NULs: no such id is stored
            return None
        i = int(np.searchsorted(self.keys, b))
        return int(self.rows[i]) if i < len(self.keys) and self.keys[i] == b else None

    def rows_of(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The row of each id (-1 where absent or null), vectorised: to map one table onto another."""
        out = np.full(len(ids), -1, dtype=np.int64)
        if not len(self.keys) or not len(ids):
            return out
        ids = pa.chunked_array([ids]) if isinstance(ids, pa.Array) else ids
        valid = np.flatnonzero(pc.is_valid(ids).to_numpy(zero_copy_only=False))
        query = _keys(ids.take(pa.array(valid)))
        at = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        found = self.keys[at] == query
        out[valid[found]] = self.rows[at[found]]
        return out
