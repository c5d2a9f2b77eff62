"""The app lock's secret handling."""

from __future__ import annotations

import pytest

from needledesk.errors import NeedleDeskError
from needledesk.security import hash_secret, verify_secret, wait_after


def test_argon2id_hash_verifies_only_the_right_secret():
    stored = hash_secret("4711")
    assert stored.startswith("$argon2id$")
    assert "4711" not in stored
    assert verify_secret(stored, "4711")
    assert not verify_secret(stored, "4712")
    assert not verify_secret("not a hash", "4711")


def test_too_short_a_secret_is_refused():
    with pytest.raises(NeedleDeskError, match="at least 4"):
        hash_secret("123")


def test_waits_grow_after_wrong_tries():
    assert [wait_after(n) for n in range(1, 9)] == [0, 0, 2, 4, 8, 16, 32, 64]
    assert wait_after(50) == 300
