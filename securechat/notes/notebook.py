"""Counselor notes: per client and per session, with every edit kept and full-text search.

A note belongs to a contact (an existing client) and a session label, follows a template, and has
numbered revisions; an edit adds a revision and never overwrites one. The FTS5 index
(`notes_fts`, rowid = note id) holds the current revision only and lives inside the encrypted
database, so searching leaves nothing readable on disk.

Search input is untrusted: `build_match_query` keeps only word characters and quotes every
term, so quotes, `NEAR(`, column filters or a stray `*` can neither raise an FTS5 syntax error nor
change the query's meaning; bare upper-case `AND`/`OR`/`NOT`/`NEAR` are dropped. Terms are
combined with AND. A trailing `*` on a word asks for a prefix
match (`cemas*`). A query of more than `MAX_SEARCH_TERMS` terms or `MAX_SEARCH_CHARS`
characters is refused with `SearchTooLong`: cutting it short would drop terms and so widen
the search.

Invariants:
- Every create, open, edit and search is written to the audit log in the same transaction.
- Nothing here imports networking: notes never leave the device except as an export.
- `Note.__repr__` never prints note text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from securechat.errors import InvalidInput, NotFound, SearchTooLong
from securechat.notes.audit import append_entry
from securechat.notes.templates import get_template, normalise_sections
from securechat.store import Store, now_ms

__all__ = [
    "MAX_SEARCH_CHARS",
    "MAX_SEARCH_TERMS",
    "Note",
    "NoteBook",
    "NoteSummary",
    "Revision",
    "SearchHit",
    "build_match_query",
]

_TERM_RE = re.compile(r"\w+\*?")
MAX_SEARCH_TERMS = 32
MAX_SEARCH_CHARS = 2000
# FTS5's operators, dropped when typed bare: people type them meaning logic, not words.
_OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
_MAX_SESSION_CHARS = 200


@dataclass(frozen=True)
class NoteSummary:
    """A note's metadata, without its text."""

    id: int
    contact_id: int
    session_id: str
    template: str
    revision: int
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Note:
    """A note at its current revision."""

    id: int
    contact_id: int
    session_id: str
    template: str
    revision: int
    created_at: int
    updated_at: int
    sections: Mapping[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"Note(id={self.id}, contact_id={self.contact_id}, template={self.template!r}, "
            f"revision={self.revision}, sections=<redacted>)"
        )


@dataclass(frozen=True)
class Revision:
    """One stored revision of a note."""

    note_id: int
    revision: int
    created_at: int
    sections: Mapping[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return f"Revision(note_id={self.note_id}, revision={self.revision}, sections=<redacted>)"


@dataclass(frozen=True)
class SearchHit:
    """A search result: which note, and a short excerpt with the match in [brackets]."""

    note_id: int
    contact_id: int
    session_id: str
    snippet: str = field(repr=False)


def _too_long() -> SearchTooLong:
    return SearchTooLong(
        f"The search is too long: use at most {MAX_SEARCH_TERMS} words and "
        f"{MAX_SEARCH_CHARS} characters."
    )


def build_match_query(untrusted_query: str) -> str | None:
    """An FTS5 MATCH expression of quoted terms (implicit AND), or None if nothing is left.

    Raises:
        SearchTooLong: more than `MAX_SEARCH_TERMS` terms or `MAX_SEARCH_CHARS` characters.
    """
    if len(untrusted_query) > MAX_SEARCH_CHARS:
        raise _too_long()
    terms: list[str] = []
    for match in _TERM_RE.finditer(untrusted_query):
        token = match.group()
        prefix = token.endswith("*")
        word = token.rstrip("*").replace('"', '""')
        if word in _OPERATORS:
            continue
        if word:
            terms.append(f'"{word}"' + ("*" if prefix else ""))
        if len(terms) > MAX_SEARCH_TERMS:
            raise _too_long()
    return " ".join(terms) if terms else None


def _sections_json(sections: Mapping[str, str]) -> str:
    return json.dumps(dict(sections), ensure_ascii=False, separators=(",", ":"))


def _index_body(sections: Mapping[str, str]) -> str:
    return "\n".join(sections.values())


def _load_sections(text: str) -> dict[str, str]:
    data: Any = json.loads(text)
    return {str(k): str(v) for k, v in data.items()}


class NoteBook:
    """The counselor's notes in one profile's store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self,
        contact_id: int,
        session_id: str,
        template: str,
        sections: Mapping[str, str],
    ) -> Note:
        """Create a note (revision 1) about the client `contact_id`.

        Raises:
            InvalidInput: unknown template, unknown section, or a bad session label.
            NotFound: no client has the contact id `contact_id`.
        """
        tpl = get_template(template)
        clean = normalise_sections(tpl, sections)
        session_id = session_id.strip()
        if not session_id or len(session_id) > _MAX_SESSION_CHARS:
            raise InvalidInput("The session label must be 1 to 200 characters.")
        now = now_ms()
        with self._store.transaction() as conn:
            client = conn.execute(
                "SELECT 1 FROM contacts WHERE id = ? AND role = 'client'", (int(contact_id),)
            ).fetchone()
            if client is None:
                raise NotFound("There is no such client.")
            cur = conn.execute(
                "INSERT INTO notes(contact_id, session_id, template, current_revision, "
                "created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
                (int(contact_id), session_id, tpl.name, now, now),
            )
            note_id = int(cur.lastrowid)
            conn.execute(
                "INSERT INTO note_revisions(note_id, revision, sections, created_at) "
                "VALUES (?, 1, ?, ?)",
                (note_id, _sections_json(clean), now),
            )
            conn.execute(
                "INSERT INTO notes_fts(rowid, body, note_id) VALUES (?, ?, ?)",
                (note_id, _index_body(clean), note_id),
            )
            append_entry(conn, "create", note_id)
        return Note(note_id, int(contact_id), session_id, tpl.name, 1, now, now, clean)

    def edit(self, note_id: int, sections: Mapping[str, str], *, merge: bool = False) -> Note:
        """Store `sections` as a new revision and make it current.

        With `merge=False` the new revision is exactly `sections` (missing ones empty); with
        `merge=True` sections not given keep their current text.

        Raises:
            NotFound: no such note.
            InvalidInput: a section the note's template does not have.
        """
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT contact_id, session_id, template, current_revision, created_at "
                "FROM notes WHERE id = ?",
                (int(note_id),),
            ).fetchone()
            if row is None:
                raise NotFound("There is no note with this number.")
            given = dict(sections)
            if merge:
                current = conn.execute(
                    "SELECT sections FROM note_revisions WHERE note_id = ? AND revision = ?",
                    (int(note_id), int(row[3])),
                ).fetchone()
                given = {**_load_sections(str(current[0])), **given}
            clean = normalise_sections(get_template(str(row[2])), given)
            revision = int(row[3]) + 1
            now = now_ms()
            conn.execute(
                "INSERT INTO note_revisions(note_id, revision, sections, created_at) "
                "VALUES (?, ?, ?, ?)",
                (int(note_id), revision, _sections_json(clean), now),
            )
            conn.execute(
                "UPDATE notes SET current_revision = ?, updated_at = ? WHERE id = ?",
                (revision, now, int(note_id)),
            )
            conn.execute("DELETE FROM notes_fts WHERE rowid = ?", (int(note_id),))
            conn.execute(
                "INSERT INTO notes_fts(rowid, body, note_id) VALUES (?, ?, ?)",
                (int(note_id), _index_body(clean), int(note_id)),
            )
            append_entry(conn, "edit", int(note_id), f"revision {revision}")
        return Note(
            int(note_id), int(row[0]), str(row[1]), str(row[2]), revision, int(row[4]), now, clean
        )

    def open(self, note_id: int) -> Note:
        """Read a note's current revision; the open is recorded in the audit log.

        Raises:
            NotFound: no such note.
        """
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT n.contact_id, n.session_id, n.template, n.current_revision, "
                "n.created_at, n.updated_at, r.sections FROM notes n "
                "JOIN note_revisions r ON r.note_id = n.id AND r.revision = n.current_revision "
                "WHERE n.id = ?",
                (int(note_id),),
            ).fetchone()
            if row is None:
                raise NotFound("There is no note with this number.")
            append_entry(conn, "open", int(note_id))
        return Note(
            int(note_id),
            int(row[0]),
            str(row[1]),
            str(row[2]),
            int(row[3]),
            int(row[4]),
            int(row[5]),
            _load_sections(str(row[6])),
        )

    def revisions(self, note_id: int) -> list[Revision]:
        """Every revision of a note, oldest first; recorded in the audit log as an open.

        Raises:
            NotFound: no such note.
        """
        with self._store.transaction() as conn:
            rows = conn.execute(
                "SELECT revision, created_at, sections FROM note_revisions "
                "WHERE note_id = ? ORDER BY revision",
                (int(note_id),),
            ).fetchall()
            if not rows:
                raise NotFound("There is no note with this number.")
            append_entry(conn, "open", int(note_id), "history")
        return [
            Revision(int(note_id), int(r[0]), int(r[1]), _load_sections(str(r[2]))) for r in rows
        ]

    def list_notes(
        self, contact_id: int | None = None, session_id: str | None = None
    ) -> list[NoteSummary]:
        """Notes' metadata (no text), newest first, optionally for one client or session."""
        sql = (
            "SELECT id, contact_id, session_id, template, current_revision, created_at, "
            "updated_at FROM notes WHERE (? IS NULL OR contact_id = ?) "
            "AND (? IS NULL OR session_id = ?) ORDER BY updated_at DESC, id DESC"
        )
        rows = self._store.conn.execute(
            sql, (contact_id, contact_id, session_id, session_id)
        ).fetchall()
        return [
            NoteSummary(int(r[0]), int(r[1]), str(r[2]), str(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for r in rows
        ]

    def search(self, untrusted_query: str, *, limit: int = 50) -> list[SearchHit]:
        """Full-text search over current revisions, best match first.

        Any input is safe: it is reduced to quoted terms, and an input with no words gives
        no results rather than an error. Recorded in the audit log (result count only).

        Raises:
            SearchTooLong: more than `MAX_SEARCH_TERMS` terms or `MAX_SEARCH_CHARS`
                characters; nothing is searched or recorded.
        """
        match = build_match_query(untrusted_query)
        if match is None:
            return []
        with self._store.transaction() as conn:
            rows = conn.execute(
                "SELECT f.rowid, n.contact_id, n.session_id, "
                "snippet(notes_fts, 0, '[', ']', '...', 12) "
                "FROM notes_fts f JOIN notes n ON n.id = f.rowid "
                "WHERE notes_fts MATCH ? ORDER BY rank LIMIT ?",
                (match, max(1, min(int(limit), 500))),
            ).fetchall()
            append_entry(conn, "search", None, f"{len(rows)} results")
        return [SearchHit(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]

    def all_with_revisions(self, note_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """Every note (or the given ones, each once, in the order first given) with all
        revisions, as plain data for export.

        Raises:
            NotFound: one of `note_ids` does not exist.
        """
        summaries = {s.id: s for s in self.list_notes()}
        ids = sorted(summaries) if note_ids is None else list(dict.fromkeys(map(int, note_ids)))
        out: list[dict[str, Any]] = []
        for nid in ids:
            summary = summaries.get(nid)
            if summary is None:
                raise NotFound("There is no note with this number.")
            rows = self._store.conn.execute(
                "SELECT revision, created_at, sections FROM note_revisions "
                "WHERE note_id = ? ORDER BY revision",
                (nid,),
            ).fetchall()
            out.append(
                {
                    "id": nid,
                    "contact_id": summary.contact_id,
                    "session_id": summary.session_id,
                    "template": summary.template,
                    "created_at": summary.created_at,
                    "updated_at": summary.updated_at,
                    "revisions": [
                        {
                            "revision": int(r[0]),
                            "created_at": int(r[1]),
                            "sections": _load_sections(str(r[2])),
                        }
                        for r in rows
                    ],
                }
            )
        return out
