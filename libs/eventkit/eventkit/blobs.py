"""Blob stores: the bytes of files (uploads, letters, results) kept beside the document store.

A document store is a poor place for megabytes: FerretDB re-encodes every document it writes and
reads it whole, so a 100 KiB upload cost more than the rest of a filing. Services keep a file's
record (size, type, hash, owner) in their database and its bytes here, under a key they choose.

`BLOB_URL` selects the store: `file:///path` keeps each blob as a file under that folder (local
use, or a volume every process of the service mounts). A cluster with several nodes needs object
storage (S3-compatible) behind the same interface.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

# Blobs are read back this many bytes at a time, so a download never holds a whole file.
READ_CHUNK = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class BlobMissing(LookupError):
    """No blob under that key (never written, or removed)."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` durably before returning; a blob already there is replaced."""
        ...

    def chunks(self, key: str) -> Iterator[bytes]:
        """The blob's bytes, a piece at a time; raises BlobMissing at the first read if absent."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the blob; False if there was none."""
        ...


class FileBlobStore:
    """One file per blob under `root`, spread over 256 folders by the key's first two characters."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, flushed to the disk, then renamed: a reader never sees half a file, and a
        # blob whose record was written next survives a crash of the machine.
        partial = path.with_name(f".{key}.{uuid.uuid4().hex[:8]}.part")
        try:
            with partial.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def chunks(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            file = path.open("rb")
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc
        with file:
            while piece := file.read(READ_CHUNK):
                yield piece

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True


def open_blob_store(url: str) -> BlobStore:
    """The store `url` names; only `file://` stores exist so far."""
    parsed = urlparse(url)
    if parsed.scheme == "file" and parsed.path:
        root = Path(unquote(parsed.path))
        root.mkdir(parents=True, exist_ok=True)
        return FileBlobStore(root)
    raise ValueError(f"unsupported blob store URL: {url!r} (expected file:///path)")
