"""What the UI tests on the real core share: the real `Service` at the cheapest Argon2id
cost, keyring's `fail` backend instead of the system keyring, and generous timeouts."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from crypto.passphrase import MIN_MEMLIMIT, MIN_OPSLIMIT, KdfParams
from securechat.service import Service
from ui.bridge import ServiceFactory

TIMEOUT = 30_000  # ms; a shared 2-core machine can be slow
PASSPHRASE = "a calm morning by the sea"  # test profiles only


@pytest.fixture(autouse=True)
def no_system_keyring() -> None:
    """Import this into a test module to keep the system keyring out of all its tests."""
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]


def real_factory(home: Path) -> ServiceFactory:
    """A factory of real services on `home`."""
    kdf = KdfParams.generate(MIN_OPSLIMIT, MIN_MEMLIMIT)
    return lambda: Service(home, kdf=kdf)
