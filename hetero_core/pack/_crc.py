"""CRC-32 of a concatenation from the CRC-32s of its parts, without the bytes (zlib's crc32_combine).

zlib has ``crc32_combine`` but Python's zlib module does not expose it; the pack needs it because chunk workers
checksum their slices and finalize never sees the bytes. CRC-32 is a remainder of polynomial division over GF(2)
(reflected polynomial 0xEDB88320, pre- and post-inverted), so appending ``n`` bytes multiplies the first part's
CRC by x^(8n) modulo the polynomial; the inversions cancel, and the second part's CRC is added (xor).
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["crc32_combine", "crc32_concat"]

_POLY = 0xEDB88320  # CRC-32 (ISO-HDLC) generator, bit-reflected
_ONE = 1 << 31  # the polynomial "1" in reflected bit order (x^0 is the top bit)


def _multiply(a: int, b: int) -> int:
    """a(x) · b(x) modulo the CRC polynomial, both in reflected bit order."""
    product = 0
    mask = _ONE
    while mask:
        if a & mask:
            product ^= b
        mask >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return product


def _powers_of_two() -> tuple[int, ...]:
    """x^(2^k) modulo the polynomial for k = 0..63, each the square of the one before."""
    powers = [_ONE >> 1]  # x^1
    for _ in range(63):
        powers.append(_multiply(powers[-1], powers[-1]))
    return tuple(powers)


_X_POW_2K = _powers_of_two()


def _x_pow_8n(n: int) -> int:
    """x^(8n) modulo the polynomial, by square-and-multiply over the bits of n (8n = n << 3)."""
    result = _ONE
    k = 3
    while n:
        if n & 1:
            result = _multiply(_X_POW_2K[k], result)
        n >>= 1
        k += 1
    return result


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of ``A + B`` given ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    if length2 < 0:
        raise ValueError(f"length2 must be >= 0, got {length2}")
    return _multiply(_x_pow_8n(length2), crc1) ^ crc2


def crc32_concat(parts: Iterable[tuple[int, int]]) -> int:
    """CRC-32 of the concatenation of parts given as ``(crc32, length)`` pairs, in order."""
    return reduce(lambda crc, part: crc32_combine(crc, part[0], part[1]), parts, 0)
