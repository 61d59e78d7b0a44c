"""The exception tree is rooted in one class, and no value type prints secrets in its repr."""

from __future__ import annotations

import inspect

from crypto.passphrase import KdfParams
from securechat import errors, profiles
from securechat.disclosure import DisclosureBook
from securechat.notes import NoteBook
from securechat.secret import SecretKey
from tests.securechat.conftest import add_clients, fast_kdf


def test_every_error_derives_from_base_with_a_message() -> None:
    """Every class in securechat.errors derives from SecureChatError and has a fixed message."""
    classes = [
        obj
        for name, obj in inspect.getmembers(errors, inspect.isclass)
        if obj.__module__ == errors.__name__
    ]
    assert set(errors.__all__) == {c.__name__ for c in classes}
    for cls in classes:
        assert issubclass(cls, errors.SecureChatError)
        message = str(cls())
        assert message.endswith(".")
        assert "{" not in message


def test_value_reprs_hide_text(counselor: profiles.Profile) -> None:
    """Notes, revisions, search hits, disclosures and keys print <redacted>, not their text."""
    secret = "rahasia-sekali-42"
    add_clients(counselor.store, 1)
    book = NoteBook(counselor.store)
    note = book.add(1, "1", "free", {"note": secret})
    disclosures = DisclosureBook(counselor.store)
    disclosure = disclosures.save({"en": secret, "id": secret})
    texts = [
        repr(note),
        repr(book.revisions(note.id)[0]),
        repr(book.search("rahasia")[0]),
        repr(disclosure),
        repr(SecretKey(b"k" * 32)),
        repr(fast_kdf()),
    ]
    for text in texts:
        assert secret not in text
        assert "kkkk" not in text
    assert "<redacted>" in repr(note)
    assert isinstance(fast_kdf(), KdfParams)
