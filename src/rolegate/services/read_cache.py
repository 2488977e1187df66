"""Records looked up by key, answered from memory while their table is unchanged.

Read-only calls that have not yet opened their transaction may use it: the table's generation is read
first, then the record (opening the snapshot after that moment), so a cached record is never older than the
generation it is filed under, and any later commit to the table moves the generation and retires it (see
store/tracking.py). Write calls always read inside their transaction. Records are bounded by count and by
the bytes of their binary fields (small objects carry their data). Immutable records (inline object bytes
of earlier versions, named once and never changed) are kept by name alone, within a byte budget.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, TypeVar

from rolegate.store.records import InlineBlob, Record
from rolegate.store.tracking import TrackingStore

R = TypeVar("R", bound=Record)

MAX_RECORDS = 4096
MAX_IMMUTABLE_BYTES = 8 * 1024 * 1024
MAX_RECORD_BYTES = 16 * 1024 * 1024


class ReadCache:
    def __init__(self, tracking: TrackingStore, max_records: int = MAX_RECORDS) -> None:
        self.tracking = tracking
        self.max_records = max_records
        self._records: dict[tuple[type[Record], tuple[str, ...]], tuple[int, Record | None]] = {}
        self._record_bytes = 0  # bytes held by cached records' binary fields (small objects' data)
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._blob_bytes = 0

    def get(self, tx: Any, kind: type[R], key: tuple[str, ...]) -> R | None:
        """`tx.get(kind, *key)`, from memory when the table has not changed since it was last read."""
        return self.get_stamped(tx, kind, key)[1]

    def get_stamped(self, tx: Any, kind: type[R], key: tuple[str, ...]) -> tuple[int, R | None]:
        """`get`, with the table's generation from before the answer was read."""
        generation = self.tracking.stamp((kind.TABLE,))[0]
        entry = self._records.get((kind, key))
        if entry is not None and entry[0] == generation:
            return entry  # type: ignore[return-value]
        found: R | None = tx.get(kind, *key)
        self.file(generation, kind, key, found)
        return generation, found

    def file(self, generation: int, kind: type[Record], key: tuple[str, ...], record: Record | None) -> None:
        """Keep `record` as the row `key` of `kind` at `generation` (read after that generation was seen, or
        written by the commit that moved the table to it)."""
        size = _bytes_of(record)
        if len(self._records) >= self.max_records or self._record_bytes + size > MAX_RECORD_BYTES:
            self._records.clear()
            self._record_bytes = 0
        self._records[(kind, key)] = (generation, record)
        self._record_bytes += size

    def current(self, kind: type[R], key: tuple[str, ...]) -> tuple[bool, R | None]:
        """(found, record) for a writer that holds the writers' lock of a store whose commits are announced
        before the next writer begins: an entry filed at the table's present generation is the row as it is."""
        entry = self._records.get((kind, key))
        if entry is not None and entry[0] == self.tracking.stamp((kind.TABLE,))[0]:
            return True, entry[1]  # type: ignore[return-value]
        return False, None

    def inline_bytes(self, tx: Any, name: str) -> bytes | None:
        """An inline blob's bytes: immutable once named, so kept by name (least recently used go first)."""
        data = self._blobs.get(name)
        if data is not None:
            self._blobs.move_to_end(name)
            return data
        found: InlineBlob | None = tx.get(InlineBlob, name)
        if found is None:
            return None
        self._blobs[name] = found.data
        self._blob_bytes += len(found.data)
        while self._blob_bytes > MAX_IMMUTABLE_BYTES and self._blobs:
            self._blob_bytes -= len(self._blobs.popitem(last=False)[1])
        return found.data


def _bytes_of(record: Record | None) -> int:
    if record is None or not record.BINARY:
        return 0
    return sum(len(value) for name in record.BINARY if isinstance(value := getattr(record, name), bytes))
