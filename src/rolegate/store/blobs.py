"""Object bytes on disk: immutable blobs written through a temp file and renamed into place, read back as
chunk streams over byte ranges.

A blob is written to `<root>/.tmp-<name>` in bounded chunks (MD5 and size computed on the way), fsynced,
then renamed to `<root>/<name[:2]>/<name>`; a crash mid-write leaves only a temp file, never a blob that
metadata could point at. Blobs never change once named, so a copy can be a hard link and a reader that has
opened one keeps its bytes even if the blob is deleted meanwhile. Which blobs are alive is the database's
business (see services/s3/storage.py); `sweep` removes files nothing refers to.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import time
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

CHUNK = 1 << 20
TMP_PREFIX = ".tmp-"


@runtime_checkable
class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BlobTooLarge(Exception):
    """The source held more bytes than the caller allowed (the partial blob is already removed)."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    name: str
    size: int
    md5: bytes


@dataclass(frozen=True, slots=True)
class Segment:
    """`length` bytes of blob `name` starting at `offset`: one piece of what a read returns."""

    name: str
    offset: int
    length: int


class ChunkStream:
    """An iterator of byte chunks over blob segments, opening each blob as it is reached.

    The first blob is opened at construction, so a single-blob object stays readable even if it is deleted
    before the first chunk is asked for. `close()` releases the open file; exhausting the stream does too."""

    def __init__(self, store: BlobStore, segments: list[Segment], chunk: int = CHUNK) -> None:
        self._store = store
        self._segments = [s for s in segments if s.length > 0]
        self._chunk = chunk
        self._index = 0
        self._left = 0
        self._file: IO[bytes] | None = None
        if self._segments:
            self._open(0)

    def _open(self, index: int) -> None:
        segment = self._segments[index]
        handle = open(self._store.path_text(segment.name), "rb", buffering=0)  # noqa: SIM115 - closed by close()
        handle.seek(segment.offset)
        self._file, self._index, self._left = handle, index, segment.length

    def __iter__(self) -> ChunkStream:
        return self

    def __next__(self) -> bytes:
        while self._file is not None:
            if self._left > 0:
                data = self._file.read(min(self._chunk, self._left))
                if not data:
                    self.close()
                    raise OSError("blob shorter than its recorded size")
                self._left -= len(data)
                return data
            self._file.close()
            self._file = None
            if self._index + 1 < len(self._segments):
                self._open(self._index + 1)
        raise StopIteration

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._segments = []

    def __del__(self) -> None:
        self.close()


def random_names() -> Callable[[], str]:
    """128-bit random hex names from a generator seeded once per store from the system's source: unique
    across processes without paying for a system random draw per blob (names are not secrets)."""
    generator = random.Random(os.urandom(32))
    return lambda: f"{generator.getrandbits(128):032x}"


class BlobStore:
    """Immutable named blobs under `root`; names come from `names` (random_names() unless a test injects some)."""

    def __init__(self, root: Path, names: Callable[[], str] | None = None, chunk: int = CHUNK) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._root_text = str(self.root)
        self._names = names or random_names()
        self.chunk = chunk

    def new_name(self) -> str:
        """A fresh blob name (also used for the database's inline blobs, so names never collide)."""
        return self._names()

    def path(self, name: str) -> Path:
        return Path(self.path_text(name))

    def path_text(self, name: str) -> str:
        """The blob's file as a string path (object reads open one per request; pathlib costs more)."""
        if not name or not name.isalnum():
            raise ValueError("invalid blob name")
        return os.path.join(self._root_text, name[:2], name)

    def write(self, source: Readable | Iterable[bytes], max_bytes: int | None = None) -> BlobInfo:
        """Stream `source` (a file object or an iterable of chunks) into a new blob; memory stays at one chunk."""
        name = self._names()
        final = self.path(name)
        temp = self.root / f"{TMP_PREFIX}{name}"
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with temp.open("xb") as out:
                for data in self._chunks(source):
                    size += len(data)
                    if max_bytes is not None and size > max_bytes:
                        raise BlobTooLarge(f"more than {max_bytes} bytes")
                    digest.update(data)
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            final.parent.mkdir(exist_ok=True)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._sync_dir(final.parent)
        return BlobInfo(name, size, digest.digest())

    def _chunks(self, source: Readable | Iterable[bytes]) -> Iterator[bytes]:
        if not isinstance(source, Readable):
            yield from (bytes(c) for c in source if c)
            return
        while True:
            data = source.read(self.chunk)
            if not data:
                return
            yield bytes(data)

    def concat(self, segments: list[Segment], max_bytes: int | None = None) -> BlobInfo:
        """A new blob holding the segments' bytes in order (a copy of a multipart object)."""
        stream = ChunkStream(self, segments, self.chunk)
        try:
            return self.write(stream, max_bytes)
        finally:
            stream.close()

    def link(self, name: str) -> str:
        """A new name for an existing blob's bytes: a hard link where the filesystem allows, else a copy."""
        new = self._names()
        target = self.path(new)
        target.parent.mkdir(exist_ok=True)
        try:
            os.link(self.path(name), target)
        except OSError:
            size = self.path(name).stat().st_size
            return self.concat([Segment(name, 0, size)]).name
        return new

    def read(self, segments: list[Segment]) -> ChunkStream:
        return ChunkStream(self, segments, self.chunk)

    def size(self, name: str) -> int:
        return self.path(name).stat().st_size

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> None:
        with contextlib.suppress(ValueError):
            self.path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        for directory in self.root.iterdir():
            if directory.is_dir() and len(directory.name) == 2:
                yield from (p.name for p in directory.iterdir() if p.is_file())

    def sweep(self, alive: Container[str], older_than: float = 3600.0) -> int:
        """Remove blobs not in `alive` and temp files left by crashes, if untouched for `older_than` seconds
        (younger ones may belong to a request in flight). Returns how many files were removed."""
        cutoff = time.time() - older_than
        removed = 0
        candidates: list[Path] = list(self.root.glob(f"{TMP_PREFIX}*"))
        candidates += [self.path(n) for n in self.names() if n not in alive]
        for path in candidates:
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    @staticmethod
    def _sync_dir(directory: Path) -> None:
        """Make the rename durable (POSIX); platforms without directory fds skip it."""
        flags = getattr(os, "O_DIRECTORY", 0)
        try:
            fd = os.open(directory, os.O_RDONLY | flags)
        except OSError:
            return
        try:
            with contextlib.suppress(OSError):
                os.fsync(fd)
        finally:
            os.close(fd)
