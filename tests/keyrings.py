"""A real password store in memory, or none, for the tests of the clinic server's password
(the TLS test and the window's): `memory_keyring` registers a real keyring backend keeping
passwords in memory with `keyring.set_keyring` (NeedleDesk's code is not mocked);
`no_keyring` is a PC without a password store (keyring's `fail` backend, as on a bare Linux
box). tests/conftest.py makes both fixtures available everywhere."""

from __future__ import annotations

import pytest


@pytest.fixture
def memory_keyring():
    """A real keyring backend keeping passwords in memory; its `entries` are
    {(service, user): password}."""
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self):
            super().__init__()
            self.entries: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.entries.get((service, username))

        def set_password(self, service, username, password):
            self.entries[(service, username)] = password

        def delete_password(self, service, username):
            self.entries.pop((service, username), None)

    before = keyring.get_keyring()
    ring = Memory()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring():
    """A PC without a password store (keyring's `fail` backend)."""
    import keyring
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)
