"""Sealing secrets at rest: round trip, tamper detection, purpose binding, key file mode and rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from rolegate.store.secrets import Sealer, UnsealError, load_or_create_key_file


def test_round_trip_and_no_plaintext(tmp_path: Path) -> None:
    sealer = load_or_create_key_file(tmp_path / "keys")
    sealed = sealer.seal("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "access-key:AKIA1")
    assert "wJalr" not in sealed
    assert sealer.unseal(sealed, "access-key:AKIA1") == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert sealer.seal("x", "p") != sealer.seal("x", "p")  # fresh nonce each time


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    sealed = load_or_create_key_file(path).seal("secret", "p")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path).unseal(sealed, "p") == "secret"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1],
        lambda s: s.replace("v1.", "v2.", 1),
        lambda s: s[:20],
        lambda s: "garbage",
        lambda s: s + "!!",
    ],
)
def test_tampering_is_one_opaque_error(tmp_path: Path, mutate: object) -> None:
    sealer = load_or_create_key_file(tmp_path / "keys")
    sealed = sealer.seal("secret", "p")
    with pytest.raises(UnsealError):
        sealer.unseal(mutate(sealed), "p")  # type: ignore[operator]


def test_purpose_binds_the_value(tmp_path: Path) -> None:
    sealer = load_or_create_key_file(tmp_path / "keys")
    with pytest.raises(UnsealError):
        sealer.unseal(sealer.seal("secret", "access-key:AKIA1"), "access-key:AKIA2")


def test_rotation_keeps_old_values_readable() -> None:
    old = Sealer({"k1": b"\x01" * 32}, "k1")
    sealed = old.seal("secret", "p")
    rotated = Sealer({"k1": b"\x01" * 32, "k2": b"\x02" * 32}, "k2")
    assert rotated.unseal(sealed, "p") == "secret"
    assert rotated.seal("secret", "p").startswith("v1.k2.")
