"""Tests for counselor notes: templates, revisions, listing and full-text search."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securechat import profiles
from securechat.errors import InvalidInput, NotFound, SearchTooLong
from securechat.notes import (
    MAX_SEARCH_CHARS,
    MAX_SEARCH_TERMS,
    TEMPLATES,
    NoteBook,
    build_match_query,
    list_entries,
)
from tests.securechat.conftest import add_clients


@pytest.fixture
def book(counselor: profiles.Profile) -> NoteBook:
    """A notebook on the counselor's store, which knows the clients 1, 2, 3 and 7."""
    add_clients(counselor.store, 1, 2, 3, 7)
    return NoteBook(counselor.store)


def test_templates_have_named_sections() -> None:
    """SOAP, DAP and free templates exist with their sections in order."""
    assert TEMPLATES["soap"].sections == ("subjective", "objective", "assessment", "plan")
    assert TEMPLATES["dap"].sections == ("data", "assessment", "plan")
    assert TEMPLATES["free"].sections == ("note",)


def test_add_fills_template_sections(book: NoteBook) -> None:
    """A new note has every template section, in order, missing ones empty."""
    note = book.add(7, "sesi-1", "dap", {"plan": "Latihan pernapasan setiap pagi"})
    assert list(note.sections) == ["data", "assessment", "plan"]
    assert note.sections["data"] == ""
    assert note.revision == 1
    opened = book.open(note.id)
    assert opened.sections == note.sections
    assert opened.contact_id == 7
    assert opened.session_id == "sesi-1"


def test_rejects_unknown_template_and_section(book: NoteBook) -> None:
    """Unknown templates, foreign sections and empty session labels are InvalidInput."""
    with pytest.raises(InvalidInput):
        book.add(1, "1", "nope", {})
    with pytest.raises(InvalidInput):
        book.add(1, "1", "soap", {"data": "x"})
    with pytest.raises(InvalidInput):
        book.add(1, "  ", "free", {"note": "x"})


def test_note_needs_an_existing_client(counselor: profiles.Profile, book: NoteBook) -> None:
    """A note for a contact id no client has (unknown, negative, or the id of a counselor
    contact) is refused with NotFound, and nothing is stored or audited."""
    with counselor.store.transaction() as conn:
        conn.execute(
            "INSERT INTO contacts(id, identity_key, display_name, role, created_at) "
            "VALUES (9, x'09', 'Konselor lain', 'counselor', 0)"
        )
    for contact_id in (77, -5, 0, 9):
        with pytest.raises(NotFound, match="no such client"):
            book.add(contact_id, "1", "free", {"note": "x"})
    assert book.list_notes() == []
    assert list_entries(counselor.store) == []


def test_every_edit_is_a_revision(book: NoteBook) -> None:
    """Edits add revisions; old text stays in history; the current one is the latest."""
    note = book.add(1, "1", "free", {"note": "first"})
    book.edit(note.id, {"note": "second"})
    latest = book.edit(note.id, {"note": "third"})
    assert latest.revision == 3
    history = book.revisions(note.id)
    assert [r.revision for r in history] == [1, 2, 3]
    assert [r.sections["note"] for r in history] == ["first", "second", "third"]
    assert book.open(note.id).sections["note"] == "third"


def test_edit_merge_keeps_other_sections(book: NoteBook) -> None:
    """`merge=True` changes only the given sections; the default replaces the whole note."""
    note = book.add(1, "1", "dap", {"data": "D", "plan": "P"})
    merged = book.edit(note.id, {"plan": "P2"}, merge=True)
    assert dict(merged.sections) == {"data": "D", "assessment": "", "plan": "P2"}
    replaced = book.edit(note.id, {"plan": "P3"})
    assert dict(replaced.sections) == {"data": "", "assessment": "", "plan": "P3"}


def test_missing_note_is_not_found(book: NoteBook) -> None:
    """Opening, editing or listing history of an unknown note raises NotFound."""
    with pytest.raises(NotFound):
        book.open(99)
    with pytest.raises(NotFound):
        book.edit(99, {"note": "x"})
    with pytest.raises(NotFound):
        book.revisions(99)


def test_list_by_client_and_session(book: NoteBook) -> None:
    """Listing filters by client and session and returns no note text."""
    a = book.add(1, "s1", "free", {"note": "a"})
    b = book.add(1, "s2", "free", {"note": "b"})
    c = book.add(2, "s1", "free", {"note": "c"})
    assert {n.id for n in book.list_notes()} == {a.id, b.id, c.id}
    assert {n.id for n in book.list_notes(contact_id=1)} == {a.id, b.id}
    assert [n.id for n in book.list_notes(contact_id=1, session_id="s2")] == [b.id]
    assert not hasattr(book.list_notes()[0], "sections")


def test_search_indonesian_words(book: NoteBook) -> None:
    """Search finds Indonesian words, prefixes, and ignores case and diacritics."""
    n1 = book.add(1, "1", "soap", {"subjective": "Klien merasa cemas menjelang ujian skripsi"})
    n2 = book.add(2, "1", "free", {"note": "Kecemasan berkurang setelah latihan pernapasan"})
    book.add(3, "1", "free", {"note": "Membahas hubungan dengan keluarga di café"})
    assert [h.note_id for h in book.search("cemas")] == [n1.id]
    assert [h.note_id for h in book.search("CEMAS ujian")] == [n1.id]
    assert [h.note_id for h in book.search("kecemas*")] == [n2.id]
    assert len(book.search("cafe")) == 1
    assert book.search("cemas pernapasan") == []
    hit = book.search("skripsi")[0]
    assert "[skripsi]" in hit.snippet
    assert hit.contact_id == 1


def test_search_sees_current_revision_only(book: NoteBook) -> None:
    """After an edit, words only in the old revision are no longer found."""
    note = book.add(1, "1", "free", {"note": "marah kepada atasan"})
    book.edit(note.id, {"note": "sudah lebih tenang"})
    assert book.search("marah") == []
    assert [h.note_id for h in book.search("tenang")] == [note.id]


HOSTILE = [
    '"',
    '""',
    "'",
    "AND OR",
    "AND",
    "*",
    "**",
    "NEAR(",
    "NEAR(cemas ujian, 2)",
    'cemas"',
    'cemas OR "',
    "subjective:cemas",
    "{body}: x",
    "(",
    ")",
    "-cemas",
    "^cemas",
    "cemas NOT",
    "\x00",
    "",
    "   ",
    "🙂",
    "a" * 2000,
    " ".join(["kata"] * 32),
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(book: NoteBook, query: str) -> None:
    """Quotes, operators, column filters and stray syntax never cause an FTS5 error."""
    book.add(1, "1", "free", {"note": "cemas menjelang ujian"})
    book.search(query)


def test_operators_are_not_interpreted(book: NoteBook) -> None:
    """`cemas OR senang` means both words (AND), not either."""
    book.add(1, "1", "free", {"note": "cemas"})
    book.add(2, "1", "free", {"note": "senang"})
    assert book.search("cemas OR senang") == []
    assert len(book.search("cemas")) == 1


@given(st.text(max_size=200))
def test_match_query_is_always_quoted(text: str) -> None:
    """Any input becomes None, a sequence of double-quoted terms (optionally with '*'), or
    (too many terms) SearchTooLong."""
    try:
        query = build_match_query(text)
    except SearchTooLong:
        return
    if query is not None:
        for term in query.split(" "):
            assert term.startswith('"')
            assert term.endswith('"') or term.endswith('"*')


def test_search_never_raises_on_any_text(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Arbitrary Unicode queries against a real FTS5 index never raise (but SearchTooLong)."""
    import os

    from securechat.secret import SecretKey
    from securechat.store import Store

    store = Store.open(tmp_path_factory.mktemp("fts") / "db", SecretKey(os.urandom(32)))
    add_clients(store, 1)
    book = NoteBook(store)
    book.add(1, "1", "free", {"note": "Saya merasa cemas dan sulit tidur"})

    @settings(max_examples=150)
    @given(st.text(max_size=80))
    def check(query: str) -> None:
        with contextlib.suppress(SearchTooLong):  # more than 32 words: refused on purpose
            book.search(query)

    try:
        check()
    finally:
        store.close()


def test_an_unknown_section_is_named_with_the_templates_own(book: NoteBook) -> None:
    """A section the template lacks (often just the wrong case) is refused with its name and
    the template's sections, so the person can correct it."""
    with pytest.raises(InvalidInput) as refused:
        book.add(1, "1", "soap", {"Plan": "sleep diary"})
    assert str(refused.value) == (
        "The soap template has no section 'Plan'; "
        "its sections are subjective, objective, assessment, plan."
    )


def test_a_search_with_too_many_words_is_refused_not_cut_short(
    book: NoteBook, counselor: profiles.Profile
) -> None:
    """A search of 33 words (or more than 2000 characters) raises SearchTooLong saying the
    limits, instead of silently dropping the words after the 32nd, which would find notes
    lacking them; dropped operators do not count, and 32 words still search."""
    book.add(1, "1", "free", {"note": " ".join(f"kata{i}" for i in range(32))})
    words = [f"kata{i}" for i in range(32)]
    assert len(book.search(" ".join(words))) == 1
    assert len(book.search(" AND ".join(words))) == 1  # operators are dropped, not counted
    audited = len(list_entries(counselor.store))
    for query in (" ".join([*words, "tidakada"]), "kata0 " + "x" * MAX_SEARCH_CHARS):
        with pytest.raises(SearchTooLong) as refused:
            book.search(query)
        assert str(refused.value) == (
            f"The search is too long: use at most {MAX_SEARCH_TERMS} words and "
            f"{MAX_SEARCH_CHARS} characters."
        )
    assert isinstance(refused.value, InvalidInput)
    assert len(list_entries(counselor.store)) == audited  # a refused search is not recorded
