"""Counselor notes: templates, revisions, full-text search, audit log and exports.

Notes live only in the profile's encrypted database and in exports the counselor asks for;
nothing in this package imports networking.
"""

from __future__ import annotations

from securechat.notes.audit import AuditEntry, AuditReport, list_entries, verify_chain
from securechat.notes.export import (
    export_encrypted,
    export_markdown,
    read_encrypted_export,
    render_markdown,
)
from securechat.notes.notebook import (
    MAX_SEARCH_CHARS,
    MAX_SEARCH_TERMS,
    Note,
    NoteBook,
    NoteSummary,
    Revision,
    SearchHit,
    build_match_query,
)
from securechat.notes.templates import TEMPLATES, Template, get_template

__all__ = [
    "MAX_SEARCH_CHARS",
    "MAX_SEARCH_TERMS",
    "TEMPLATES",
    "AuditEntry",
    "AuditReport",
    "Note",
    "NoteBook",
    "NoteSummary",
    "Revision",
    "SearchHit",
    "Template",
    "build_match_query",
    "export_encrypted",
    "export_markdown",
    "get_template",
    "list_entries",
    "read_encrypted_export",
    "render_markdown",
    "verify_chain",
]
