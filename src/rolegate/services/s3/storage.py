"""How object metadata and blobs stay consistent across transactions.

- Bytes are written to a new blob *before* the transaction opens (so a long upload never holds the
  database's write lock) and the blob is removed again if the handler fails; a blob whose metadata row
  never commits (crash, failed commit) is an orphan that `collect_orphans` removes later. A partial or
  uncommitted upload is never visible: the object row is what makes it visible.
- A blob that loses its last reference is not deleted at once: a `DeadBlob` row is written in the same
  transaction, and its file is removed by a later write call (`purge`) once that row is committed and older
  than `GRACE`, so a rolled-back delete never loses bytes and a download that began earlier can finish.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.s3.errors import MAX_PART_SIZE, IncompleteBody, InternalError, entity_too_large
from rolegate.store.blobs import BlobInfo, BlobStore, BlobTooLarge, ChunkStream, Segment
from rolegate.store.interface import Store
from rolegate.store.records import DeadBlob, ObjectPart, S3Object

GRACE = timedelta(minutes=10)
PURGE_INTERVAL = timedelta(seconds=30)
ORPHAN_AGE_SECONDS = 3600.0


def blobs_of(call: CallContext) -> BlobStore:
    if not isinstance(call.blobs, BlobStore):
        raise InternalError("We encountered an internal error. Please try again.")
    return call.blobs


def write_body(call: CallContext, params: Mapping[str, Any], limit: int = MAX_PART_SIZE) -> BlobInfo:
    """Stream the request body into a new blob; `IncompleteBody` when it disagrees with Content-Length."""
    declared = params.get("ContentLength")
    if isinstance(declared, int) and declared > limit:
        raise entity_too_large(declared, limit)
    body = params.get("Body")
    if body is None or isinstance(body, bytes | bytearray):
        body = io.BytesIO(bytes(body or b""))
    try:
        info = blobs_of(call).write(body, max_bytes=limit)
    except BlobTooLarge as error:
        raise entity_too_large(limit + 1, limit) from error
    if isinstance(declared, int) and declared != info.size:
        blobs_of(call).delete(info.name)
        raise IncompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header")
    return info


@contextmanager
def removed_on_error(call: CallContext, name: str) -> Iterator[None]:
    """Remove the blob `name` if the block raises (the row that would refer to it is rolled back)."""
    try:
        yield
    except BaseException:
        blobs_of(call).delete(name)
        raise


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


def release(call: CallContext, obj: S3Object) -> None:
    """Hand the bytes of a replaced or deleted object to the graveyard (its row is already gone or replaced)."""
    if obj.upload_id:
        drop_parts(call, parts_of(call, obj.upload_id))
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


def stream(call: CallContext, obj: S3Object, start: int, length: int) -> ChunkStream:
    return blobs_of(call).read(slice_segments(segments(call, obj), start, length))


def collect_orphans(store: Store, blobs: BlobStore, older_than: float = ORPHAN_AGE_SECONDS) -> int:
    """Remove blob files no object, part or graveyard row refers to (run at start-up or now and then)."""
    alive: set[str] = set()
    with store.transaction(write=False) as tx:
        alive.update(o.blob for o in tx.find(S3Object) if o.blob)
        alive.update(p.blob for p in tx.find(ObjectPart))
        alive.update(d.name for d in tx.find(DeadBlob))
    return blobs.sweep(alive, older_than)
