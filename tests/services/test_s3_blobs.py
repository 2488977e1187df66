"""The blob store on a real directory: atomic writes with MD5 and size, ranged chunk reads, links, failure
clean-up, orphan sweeping, and bounded memory for large streams."""

from __future__ import annotations

import hashlib
import io
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import GeneratedStream, MiB, read_all, stream_digest

from rolegate.store.blobs import BlobStore, BlobTooLarge, Segment


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "objects", chunk=64 * 1024)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_write_computes_md5_and_size_and_reads_back_ranges(blobs: BlobStore) -> None:
    data = bytes(range(256)) * 1000
    info = blobs.write(io.BytesIO(data))
    assert (info.size, info.md5) == (len(data), hashlib.md5(data).digest())
    assert blobs.path(info.name).read_bytes() == data
    assert read_all(blobs.read([Segment(info.name, 0, len(data))])) == data
    assert read_all(blobs.read([Segment(info.name, 1000, 70_000)])) == data[1000:71_000]
    chunks = list(blobs.read([Segment(info.name, 0, len(data))]))
    assert max(len(c) for c in chunks) == 64 * 1024


def test_reads_span_several_blobs_in_order(blobs: BlobStore) -> None:
    first, second = blobs.write(io.BytesIO(b"abcdef")), blobs.write([b"ghi", b"", b"jkl"])
    segments = [Segment(first.name, 2, 4), Segment(second.name, 0, 5)]
    assert read_all(blobs.read(segments)) == b"cdefghijk"
    assert second.md5 == hashlib.md5(b"ghijkl").digest()


def test_a_failing_source_leaves_neither_blob_nor_temp_file(blobs: BlobStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * 1000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        blobs.write(broken())
    assert files_under(blobs.root) == []


def test_a_source_over_the_limit_is_refused_and_removed(blobs: BlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        blobs.write(io.BytesIO(b"y" * 5000), max_bytes=4999)
    assert files_under(blobs.root) == []
    assert blobs.write(io.BytesIO(b"y" * 5000), max_bytes=5000).size == 5000


def test_an_opened_stream_survives_deletion_of_its_blob(blobs: BlobStore) -> None:
    info = blobs.write(io.BytesIO(b"keep reading"))
    stream = blobs.read([Segment(info.name, 0, info.size)])
    blobs.delete(info.name)
    assert not blobs.exists(info.name)
    assert read_all(stream) == b"keep reading"


def test_closing_a_stream_early_releases_it(blobs: BlobStore) -> None:
    info = blobs.write(io.BytesIO(b"z" * 200_000))
    stream = blobs.read([Segment(info.name, 0, info.size)])
    assert len(next(stream)) == 64 * 1024
    stream.close()
    assert list(stream) == []


def test_link_gives_an_independent_name_for_the_same_bytes(blobs: BlobStore) -> None:
    info = blobs.write(io.BytesIO(b"shared bytes"))
    other = blobs.link(info.name)
    assert other != info.name
    blobs.delete(info.name)
    assert blobs.path(other).read_bytes() == b"shared bytes"


def test_sweep_removes_only_old_unreferenced_files(blobs: BlobStore) -> None:
    alive, dead, young = (blobs.write(io.BytesIO(b"%d" % i)) for i in range(3))
    stale_temp = blobs.root / ".tmp-deadbeef"
    stale_temp.write_bytes(b"partial")
    old = time.time() - 7200
    for path in (blobs.path(alive.name), blobs.path(dead.name), stale_temp):
        os.utime(path, (old, old))
    assert blobs.sweep({alive.name}, older_than=3600) == 2
    assert blobs.exists(alive.name) and blobs.exists(young.name)
    assert not blobs.exists(dead.name) and not stale_temp.exists()


def test_blob_names_cannot_escape_the_root(blobs: BlobStore) -> None:
    with pytest.raises(ValueError, match="invalid blob name"):
        blobs.path("../../etc/passwd")
    blobs.delete("../x")  # ignored, never touches anything outside


def test_a_64_mib_stream_is_written_and_read_with_bounded_memory(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "objects")
    size = 64 * MiB
    tracemalloc.start()
    try:
        info = blobs.write(GeneratedStream(size, seed=3))
        digest = hashlib.md5()
        for chunk in blobs.read([Segment(info.name, 0, size)]):
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.size == size
    assert info.md5.hex() == digest.hexdigest() == stream_digest(size, seed=3)
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
