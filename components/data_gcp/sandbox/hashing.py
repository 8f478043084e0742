"""The hash every random-looking but reproducible property of the sandbox comes from (splitmix64).

Why hashing and not a random generator: a property hashed from an id and a salt is the same whatever
else was drawn before, so `advance` recomputes it from ids alone, and code may compute it for a
batch of ids or one id at a time (texts are partly built one by one) with the same result.
"""

from __future__ import annotations

import numpy as np

_M = 0xFFFFFFFFFFFFFFFF


def _mix(salt: int, seed: int) -> int:
    return (seed * 0x9E3779B1 + salt * 0x85EBCA77 + 0x632BE5AB) & _M


def hash_uniform(ids: np.ndarray, salt: int, seed: int) -> np.ndarray:
    """A uniform [0, 1) number per id (splitmix64), stable across runs for a given seed and salt."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids).astype(np.uint64) ^ np.uint64(_mix(salt, seed))
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def hash_one(key: int, salt: int, seed: int) -> float:
    """`hash_uniform` for one integer in plain Python."""
    z = int(key) ^ _mix(salt, seed)
    z = (z * 0x9E3779B97F4A7C15) & _M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M
    z ^= z >> 31
    return (z >> 11) / float(1 << 53)
