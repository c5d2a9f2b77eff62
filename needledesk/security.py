"""The app lock's secret: an argon2id hash, and the growing wait after wrong tries. No Qt."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from needledesk.errors import NeedleDeskError

MIN_LENGTH = 4
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_secret(secret: str) -> str:
    if len(secret) < MIN_LENGTH:
        raise NeedleDeskError(f"the password or PIN needs at least {MIN_LENGTH} characters")
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def wait_after(failures: int) -> int:
    """Seconds to wait before the next try: none for the first two mistakes, then 2, 4, 8…
    up to five minutes, so guessing a PIN takes days rather than minutes."""
    if failures < 3:
        return 0
    return min(2 ** (failures - 2), 300)
