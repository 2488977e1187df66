"""Secrets at rest: AES-GCM sealing with a key kept in a 0600 key file, with key ids for rotation.

A sealed value is `v1.<key id>.<base64url(nonce || ciphertext+tag)>`. Unsealing a value that was edited or
sealed under an unknown key fails with one opaque error (no oracle). The associated data binds a sealed
value to its purpose (e.g. "access-key:AKIA…"), so a sealed secret cannot be moved to another record.
"""

from __future__ import annotations

import base64
import os
import secrets as token_source
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "v1"


class UnsealError(Exception):
    """A sealed value could not be opened (tampered, truncated, or sealed under another key)."""


class Sealer:
    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
            raise ValueError("a sealer needs its current key among 32-byte keys")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = token_source.token_bytes(NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode("utf-8"), purpose.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{PREFIX}.{self._current}.{body}"

    def unseal(self, sealed: str, purpose: str) -> str:
        try:
            version, key_id, body = sealed.split(".", 2)
            aead = self._keys[key_id] if version == PREFIX else None
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if aead is None or len(raw) <= NONCE_BYTES:
                raise UnsealError
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode("utf-8")).decode("utf-8")
        except (ValueError, KeyError, InvalidTag, UnicodeDecodeError) as error:
            raise UnsealError from error


def load_or_create_key_file(path: Path) -> Sealer:
    """Read `key_id:hex` lines (the last is current); create the file with a fresh key, mode 0600, if absent."""
    if not path.exists():
        key_id = token_source.token_hex(4)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"{key_id}:{token_source.token_bytes(KEY_BYTES).hex()}\n")
    keys: dict[str, bytes] = {}
    current = ""
    for line in path.read_text().splitlines():
        if line.strip():
            key_id, _, hex_key = line.strip().partition(":")
            keys[key_id] = bytes.fromhex(hex_key)
            current = key_id
    return Sealer(keys, current)
