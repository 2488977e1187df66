"""Private files for secrets: directories 0700, files 0600, replaced atomically so a reader never sees half a
file and a crash never leaves a truncated one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; writers then rely on the atomic replace alone
    fcntl = None  # type: ignore[assignment]  # optional module

MAX_READ = 4 * 1024 * 1024  # AWS config and credentials files are small; refuse to slurp anything huge


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing; a directory we create is 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 via a temporary file in the same directory and os.replace."""
    target = Path(os.path.realpath(path))  # keep a symlinked credentials file a symlink
    private_dir(target.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_text(path: Path) -> str:
    """The file's text, or "" when it does not exist."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_READ + 1)
    except FileNotFoundError:
        return ""
    if len(raw) > MAX_READ:
        raise OSError(f"{path} is larger than {MAX_READ} bytes")
    return raw.decode("utf-8")


def is_private(path: Path) -> bool:
    """True when `path` is a regular file of ours that nobody else can read or write."""
    try:
        info = path.lstat()
    except OSError:
        return False
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISREG(info.st_mode) and owner_ok and info.st_mode & 0o077 == 0


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Serialise writers of files in `directory` (an advisory flock on the directory itself)."""
    if fcntl is None:  # pragma: no cover - see the import
        yield
        return
    fd = os.open(private_dir(directory), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
