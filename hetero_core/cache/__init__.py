"""The decoy cache (issue 11): a molecule's decoys and their columns by content address, so a re-audit of the
same library skips decoy generation. Folder store for the CLI; the service plugs in an org's S3 prefix."""

from __future__ import annotations

from hetero_core.cache._cache import (
    CacheEvent,
    CacheStats,
    DecoyCache,
    EntryStore,
)
from hetero_core.cache._entry import (
    AsWritten,
    CachedDecoy,
    CachedDecoys,
    CorruptEntryError,
    decode_entry,
    encode_entry,
)
from hetero_core.cache._folder import (
    CACHE_DIR_ENV,
    FolderStore,
    FolderUsage,
    default_cache_dir,
)
from hetero_core.cache._key import (
    DecoyRecipe,
    decoy_cache_key,
)
from hetero_core.cache._readahead import (
    PendingRead,
    read_ahead,
)

__all__ = [
    "CACHE_DIR_ENV",
    "AsWritten",
    "CacheEvent",
    "CacheStats",
    "CachedDecoy",
    "CachedDecoys",
    "CorruptEntryError",
    "DecoyCache",
    "DecoyRecipe",
    "EntryStore",
    "FolderStore",
    "FolderUsage",
    "PendingRead",
    "decode_entry",
    "decoy_cache_key",
    "default_cache_dir",
    "encode_entry",
    "read_ahead",
]
