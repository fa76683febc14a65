import os

import pytest

from eventkit import blobs
from eventkit.blobs import BlobMissing, FileBlobStore, open_blob_store


def test_a_blob_is_read_back_in_pieces_and_deleted(tmp_path, monkeypatch):
    store = open_blob_store((tmp_path / "b").as_uri())
    data = os.urandom(2500)
    store.put("a1b2c3", data)
    monkeypatch.setattr(blobs, "READ_CHUNK", 1000)
    pieces = list(store.chunks("a1b2c3"))
    assert [len(p) for p in pieces] == [1000, 1000, 500] and b"".join(pieces) == data
    assert store.delete("a1b2c3") and not store.delete("a1b2c3")
    with pytest.raises(BlobMissing):
        next(store.chunks("a1b2c3"))


def test_a_blob_written_again_is_replaced_and_no_partial_file_is_left(tmp_path):
    store = FileBlobStore(tmp_path)
    store.put("k1", b"first")
    store.put("k1", b"second")
    assert b"".join(store.chunks("k1")) == b"second"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["k1"]


def test_a_failed_write_leaves_no_blob_and_no_partial_file(tmp_path, monkeypatch):
    store = FileBlobStore(tmp_path)

    def broken(_fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError):
        store.put("k2", b"data")
    with pytest.raises(BlobMissing):
        next(store.chunks("k2"))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("key", ["", "../etc", "a/b", ".hidden", "x" * 201])
def test_keys_cannot_leave_the_store(tmp_path, key):
    with pytest.raises(ValueError):
        FileBlobStore(tmp_path).put(key, b"x")


@pytest.mark.parametrize("url", ["s3://bucket/x", "file://", "/plain/path"])
def test_unknown_store_urls_fail_at_start(url):
    with pytest.raises(ValueError):
        open_blob_store(url)
