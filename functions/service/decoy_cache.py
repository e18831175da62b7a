"""The service's decoy cache: an org's entries under its own S3 prefix, written under its own KMS key.

Never shared across orgs: the prefix is the org's (``layout.decoy_cache_prefix``), the artifact store refuses any
other org's key, IAM grants the chunk runners that prefix per configured org, and an entry found there that is not
encrypted under the org's data key reads as corrupt (rebuilt and overwritten, never used). An S3 fault costs the
cache, never the row: it surfaces as ``OSError``, which ``hetero_core.cache`` treats as no cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from functions.service import layout
from functions.service.artifacts import ForeignObjectError
from functions.service.errors import TransientServiceError
from functions.service.jobs import CACHE_COUNTERS
from hetero_core.cache import CacheStats, CorruptEntryError, DecoyCache

if TYPE_CHECKING:
    from collections.abc import Iterable

    from functions.service.artifacts import ArtifactStore

ENTRY_CONTENT_TYPE = "application/octet-stream"
# GETs in flight at once ahead of a chunk's rows (hetero_core.cache.read_ahead): a warm row's GET (10-50 ms) then
# overlaps the others' instead of adding up. The S3 client's connection pool is at least this big (context.py).
CACHE_READ_THREADS = 32


class OrgDecoyStore:
    """``hetero_core.cache.EntryStore`` over one org's cache prefix. Reads run on read-ahead threads: the artifact
    store holds no state but its boto3 client, which is thread-safe."""

    cheap_misses = False  # an absent entry is a GET answered 404: never guess at keys here

    def __init__(self, store: ArtifactStore, read_ahead: int = CACHE_READ_THREADS) -> None:
        self._store = store
        self.read_ahead = read_ahead

    def read(self, key: str) -> bytes | None:
        try:
            return self._store.get_own_bytes(layout.decoy_cache_entry_key(self._store.org, key))
        except ForeignObjectError as exc:
            raise CorruptEntryError(str(exc)) from exc
        except (ClientError, BotoCoreError, TransientServiceError) as exc:
            raise OSError(f"decoy cache read failed: {exc}") from exc

    def write(self, key: str, data: bytes) -> None:
        try:
            self._store.put_bytes(layout.decoy_cache_entry_key(self._store.org, key), data, ENTRY_CONTENT_TYPE)
        except (ClientError, BotoCoreError, TransientServiceError) as exc:
            raise OSError(f"decoy cache write failed: {exc}") from exc


def org_decoy_cache(store: ArtifactStore, read_ahead: int = CACHE_READ_THREADS) -> DecoyCache:
    """The decoy cache of the org whose artifact store this is; ``read_ahead`` 0 reads one row's entry at a time."""
    return DecoyCache(OrgDecoyStore(store, read_ahead))


def cache_counters(events: Iterable[str]) -> dict[str, int]:
    """A chunk's cache events as job-record counter increments."""
    counts = CacheStats.of(events).to_dict()
    return {attribute: counts[name] for name, attribute in CACHE_COUNTERS.items()}
