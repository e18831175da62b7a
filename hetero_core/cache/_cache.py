"""The decoy cache in front of decoy generation, and the counts of what it did.

A lookup is a hit (the stored entry passed every check), a miss (nothing stored: built and stored) or corrupt
(an entry was stored but failed its checks: ignored, rebuilt and overwritten). A store that cannot be read or
written (a full disk, a read-only folder, an S3 error) never costs the row: the decoys are built as if there were
no cache and the row counts as ``unwritable``. The counts travel with each row (``RowResult.decoy_cache``) and are
added up by whoever streams the rows; they never go into the pack, whose bytes must not depend on the cache.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeVar

from hetero_core.cache._entry import CachedDecoys, CorruptEntryError, decode_entry, encode_entry
from hetero_core.cache._key import decoy_cache_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from hetero_core.cache._readahead import PendingRead
    from hetero_core.config import RunConfig

_log = logging.getLogger(__name__)


class _HasCacheEvent(Protocol):
    decoy_cache: str


_R = TypeVar("_R", bound=_HasCacheEvent)


class CacheEvent(StrEnum):
    HIT = "hit"
    MISS = "miss"
    CORRUPT = "corrupt"
    UNWRITABLE = "unwritable"


class EntryStore(Protocol):
    """Where entries live: a folder for the CLI, an org's S3 prefix for the service. ``read`` is None when absent and
    may raise ``CorruptEntryError`` for an entry it does not trust (one not under the org's key);
    a store that cannot be used raises ``OSError`` (a store over a network wraps its errors in one), which costs
    the cache, never the row. Nothing else is caught, so a molecule's time limit still stops it."""

    # True when reading an absent key costs a stat(), not a request (a folder; an S3 GET answered 404 is a billed
    # request and a round trip): only then is a key that may not exist worth trying (:meth:`DecoyCache.peek`).
    cheap_misses: bool
    # How many reads may be in flight at once ahead of the rows that need them (hetero_core.cache.read_ahead): a
    # store over a network (S3: 10-50 ms a GET) overlaps its round trips; 0 reads each entry when its row is staged.
    read_ahead: int

    def read(self, key: str) -> bytes | None: ...

    def write(self, key: str, data: bytes) -> None: ...


class DecoyCache:
    """Decoys by content address; must be picklable when a process pool carries it to its workers."""

    def __init__(self, store: EntryStore) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"DecoyCache({self.store!r})"

    def peek(self, canonical_smiles: str, molecule_seed: int, config: RunConfig) -> CachedDecoys | None:
        """The stored entry if there is a sound one; never builds, writes or counts (absent, corrupt or unreadable
        is None, and the caller takes the road that does: :meth:`decoys`). A guess at a key, so only on a store whose
        misses are cheap; elsewhere always None."""
        if not self.store.cheap_misses:
            return None
        key = decoy_cache_key(canonical_smiles, molecule_seed, config)
        try:
            data = self.store.read(key)
            return decode_entry(key, data) if data is not None else None
        except (CorruptEntryError, OSError):
            return None

    def decoys(
        self,
        canonical_smiles: str,
        molecule_seed: int,
        config: RunConfig,
        make: Callable[[], CachedDecoys],
        pending: PendingRead | None = None,
    ) -> tuple[CachedDecoys, CacheEvent]:
        """The molecule's decoys from the cache, or from ``make`` (then stored); and what happened. ``pending`` is
        this key's read already started (:func:`read_ahead`): its outcome is judged as a read made here."""
        key = decoy_cache_key(canonical_smiles, molecule_seed, config)
        event = CacheEvent.MISS
        try:
            data = pending.result() if pending is not None and pending.key == key else self.store.read(key)
            if data is not None:
                return decode_entry(key, data), CacheEvent.HIT
        except CorruptEntryError as exc:  # from the checks, or a store that distrusts what it found
            _log.warning("decoy cache entry %s ignored and rebuilt: %s", key, exc)
            event = CacheEvent.CORRUPT
        except OSError as exc:  # an unreadable cache is no cache, never a failed row
            _log.warning("decoy cache unreadable, building without it: %s", exc)
            return make(), CacheEvent.UNWRITABLE
        made = make()
        try:
            self.store.write(key, encode_entry(key, made))
        except OSError as exc:  # as above: the row has its decoys, only the next run pays
            _log.warning("decoy cache entry %s not written: %s", key, exc)
            return made, CacheEvent.UNWRITABLE
        return made, event


@dataclass(slots=True)
class CacheStats:
    """How many rows the cache served, built, found corrupt, or could not use; reported beside the pack."""

    hits: int = 0
    misses: int = 0
    corrupt: int = 0
    unwritable: int = 0

    def add(self, event: str) -> None:
        if event == CacheEvent.HIT:
            self.hits += 1
        elif event == CacheEvent.MISS:
            self.misses += 1
        elif event == CacheEvent.CORRUPT:
            self.corrupt += 1
        elif event == CacheEvent.UNWRITABLE:
            self.unwritable += 1

    @classmethod
    def of(cls, events: Iterable[str]) -> CacheStats:
        stats = cls()
        for event in events:
            stats.add(event)
        return stats

    def counting(self, results: Iterable[_R]) -> Iterator[_R]:
        """Pass ``results`` through, counting each one's cache event on the way."""
        for result in results:
            self.add(result.decoy_cache)
            yield result

    def to_dict(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "corrupt": self.corrupt, "unwritable": self.unwritable}

    def sentence(self) -> str:
        return f"{self.hits} hits, {self.misses} misses, {self.corrupt} corrupt entries rebuilt" + (
            f", {self.unwritable} rows without a usable cache" if self.unwritable else ""
        )
