"""How object metadata and blobs stay consistent across transactions.

- Bytes are written to a new blob *before* the transaction opens (so a long upload never holds the
  database's write lock) and the blob is removed again if the handler fails; a blob whose metadata row
  never commits (crash, failed commit) is an orphan that `collect_orphans` removes later. A partial or
  uncommitted upload is never visible: the object row is what makes it visible.
- Small objects (PutObject and CopyObject of at most INLINE_MAX bytes) keep their bytes in the database, in
  the object's own row (`S3Object.data`): one commit makes them visible, atomically and as durably as the
  database's other writes, with no file to create, sync and rename; replacing or deleting the row drops them.
  Small objects stored by earlier versions keep theirs in an InlineBlob row named by `blob`, which goes
  when the object is replaced or deleted, in the same transaction.
- A blob that loses its last reference is not deleted at once: a `DeadBlob` row is written in the same
  transaction, and its file is removed by a later write call (`purge`) once that row is committed and older
  than `GRACE`, so a rolled-back delete never loses bytes and a download that began earlier can finish.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rolegate.errors import IncompleteBody
from rolegate.services.context import CallContext
from rolegate.services.lazy_transaction import inline_bytes as cached_inline_bytes
from rolegate.services.s3.errors import MAX_PART_SIZE, InternalError, entity_too_large
from rolegate.store.blobs import BlobStore, BlobTooLarge, ChunkStream, Segment
from rolegate.store.interface import Store
from rolegate.store.records import DeadBlob, InlineBlob, ObjectPart, S3Object

GRACE = timedelta(minutes=10)
PURGE_INTERVAL = timedelta(seconds=30)
ORPHAN_AGE_SECONDS = 3600.0
INLINE_MAX = 64 * 1024  # below ~100 KB SQLite reads and writes blobs faster than the file system does


@dataclass(frozen=True, slots=True)
class StoredBody:
    """A request body once stored: a file blob (`data` None) or bytes bound for the object's row (`name`
    empty)."""

    name: str
    size: int
    md5: bytes
    data: bytes | None = None


class Replaced(NamedTuple):
    """What an overwrite needs of the object it replaces: its ETag for conditional writes, and where its bytes
    are, to release them. Read without decoding the whole object (`current_fields`)."""

    etag: str
    blob: str
    upload_id: str
    inline: bool


REPLACED_FIELDS = Replaced._fields


def blobs_of(call: CallContext) -> BlobStore:
    if not isinstance(call.blobs, BlobStore):
        raise InternalError("We encountered an internal error. Please try again.")
    return call.blobs


def write_body(
    call: CallContext, params: Mapping[str, Any], limit: int = MAX_PART_SIZE, *, inline: bool = False
) -> StoredBody:
    """Read the request body into a new blob, or, with `inline`, keep it in memory when it is at most
    INLINE_MAX bytes; `IncompleteBody` when it disagrees with Content-Length."""
    declared = params.get("ContentLength")
    if isinstance(declared, int) and declared > limit:
        raise entity_too_large(declared, limit)
    body = params.get("Body")
    if body is None or isinstance(body, bytes | bytearray):
        body = io.BytesIO(bytes(body or b""))
    head: list[bytes] = []
    if inline and (not isinstance(declared, int) or declared <= INLINE_MAX):
        head = _read_at_most(body, INLINE_MAX)
        if sum(map(len, head)) <= INLINE_MAX:
            data = b"".join(head)
            _check_length(declared, len(data))
            md5 = hashlib.md5(data, usedforsecurity=False).digest()
            return StoredBody("", len(data), md5, data)
    source: Iterable[bytes] = itertools.chain(head, iter(lambda: body.read(blobs_of(call).chunk), b""))
    try:
        info = blobs_of(call).write(source, max_bytes=limit)
    except BlobTooLarge as error:
        raise entity_too_large(limit + 1, limit) from error
    try:
        _check_length(declared, info.size)
    except IncompleteBody:
        blobs_of(call).delete(info.name)
        raise
    return StoredBody(info.name, info.size, info.md5)


def _read_at_most(body: Any, limit: int) -> list[bytes]:
    """Chunks read from `body` until it ends or more than `limit` bytes have come."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        data = body.read(limit + 1 - total)
        if not data:
            break
        chunks.append(bytes(data))
        total += len(data)
    return chunks


def _check_length(declared: Any, size: int) -> None:
    if isinstance(declared, int) and declared != size:
        raise IncompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header")


class removed_on_error:  # noqa: N801 - used as a function: `with removed_on_error(call, body):`
    """Remove the file blob if the block raises (the row that would refer to it is rolled back); an inline
    body's bytes are rolled back with its row. A class, not a generator: every PutObject passes here."""

    __slots__ = ("body", "call")

    def __init__(self, call: CallContext, body: StoredBody | str) -> None:
        self.call = call
        self.body = body

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        if kind is None:
            return
        if isinstance(self.body, str):
            blobs_of(self.call).delete(self.body)
        elif self.body.data is None:
            blobs_of(self.call).delete(self.body.name)


def purge(call: CallContext) -> None:
    """Delete the files of blobs whose removal was committed at least GRACE ago (write calls only).

    At most once per PURGE_INTERVAL per process, and by minute: the graveyard is looked up one indexed
    minute at a time from where the last purge stopped (the first purge of a process reads it whole)."""
    blobs = blobs_of(call)
    state = _PURGES.setdefault(blobs, _PurgeState())
    if state.next_run is not None and call.now < state.next_run:
        return
    state.next_run = call.now + PURGE_INTERVAL
    cutoff = call.now - GRACE
    if state.cursor is None:
        doomed = [d for d in call.tx.find(DeadBlob) if d.doomed <= cutoff]
    else:
        doomed = []
        minute = state.cursor
        while minute <= cutoff:
            doomed.extend(d for d in call.tx.find(DeadBlob, minute=_minute(minute)) if d.doomed <= cutoff)
            minute += timedelta(minutes=1)
    for dead in doomed:
        blobs.delete(dead.name)
        call.tx.delete(DeadBlob, dead.name)
    state.cursor = cutoff.replace(second=0, microsecond=0)


class _PurgeState:
    """Per blob store: when the next purge may run, and the first minute it still has to look at."""

    def __init__(self) -> None:
        self.next_run: datetime | None = None
        self.cursor: datetime | None = None


_PURGES: weakref.WeakKeyDictionary[BlobStore, _PurgeState] = weakref.WeakKeyDictionary()


def _minute(instant: datetime) -> str:
    return instant.strftime("%Y%m%d%H%M")


def discard(call: CallContext, *names: str) -> None:
    for name in names:
        if name:
            call.tx.put(DeadBlob(name, call.now, _minute(call.now)))


def parts_of(call: CallContext, upload_id: str) -> list[ObjectPart]:
    return sorted(call.tx.find(ObjectPart, upload_id=upload_id), key=lambda p: p.part_number)


def drop_parts(call: CallContext, parts: list[ObjectPart]) -> None:
    for part in parts:
        call.tx.delete(ObjectPart, part.upload_id, str(part.part_number))
    discard(call, *(p.blob for p in parts))


def drop_object(call: CallContext, obj: S3Object) -> None:
    """Forget an object's row and hand its bytes to the graveyard."""
    call.tx.delete(S3Object, obj.bucket, obj.key)
    release(call, obj)


def release(call: CallContext, obj: S3Object | Replaced) -> None:
    """Hand the bytes of a replaced or deleted object to the graveyard (its row is already gone or replaced)."""
    if obj.upload_id:
        drop_parts(call, parts_of(call, obj.upload_id))
    elif obj.inline:
        if obj.blob:  # stored by an earlier version: its bytes have a row of their own
            call.tx.delete(InlineBlob, obj.blob)
    else:
        discard(call, obj.blob)


def segments(call: CallContext, obj: S3Object) -> list[Segment]:
    if not obj.upload_id:
        return [Segment(obj.blob, 0, obj.size)]
    return [Segment(p.blob, 0, p.size) for p in parts_of(call, obj.upload_id)]


def slice_segments(pieces: list[Segment], start: int, length: int) -> list[Segment]:
    """The segments covering bytes [start, start + length) of the concatenation of `pieces`."""
    chosen: list[Segment] = []
    position = 0
    end = start + length
    for piece in pieces:
        piece_end = position + piece.length
        if piece_end > start and position < end:
            offset = max(start - position, 0)
            stop = min(end, piece_end) - position
            chosen.append(Segment(piece.name, piece.offset + offset, stop - offset))
        position = piece_end
    return chosen


def stream(call: CallContext, obj: S3Object, start: int, length: int) -> tuple[bytes] | ChunkStream:
    """The bytes [start, start + length) of the object as chunks: one in hand for inline objects, else a
    stream over its files."""
    if obj.inline:
        return (inline_bytes(call, obj)[start : start + length],)
    return blobs_of(call).read(slice_segments(segments(call, obj), start, length))


def inline_bytes(call: CallContext, obj: S3Object) -> bytes:
    """An inline object's bytes: in its row (a record from `get`), or in the InlineBlob row an earlier
    version wrote."""
    data = obj.data
    if data is None and obj.blob:
        data = cached_inline_bytes(call.tx, obj.blob)
    if data is None or len(data) != obj.size:
        raise InternalError("We encountered an internal error. Please try again.")
    return data


def collect_orphans(store: Store, blobs: BlobStore, older_than: float = ORPHAN_AGE_SECONDS) -> int:
    """Remove blob files no object, part or graveyard row refers to (run at start-up or now and then)."""
    alive: set[str] = set()
    with store.transaction(write=False) as tx:
        alive.update(o.blob for o in tx.find(S3Object) if o.blob and not o.inline)
        alive.update(p.blob for p in tx.find(ObjectPart))
        alive.update(d.name for d in tx.find(DeadBlob))
    return blobs.sweep(alive, older_than)
