"""CLI commands for counselor notes: `notes add|edit|list|show|search|export|read-export|verify`.

Every action but `read-export` (which opens a file, not a profile) is for counselor profiles
only (`for_role`). Note text is printed only by `show` and `search` (the counselor asked to see
it). Export
passphrases come from `$SECURECHAT_EXPORT_PASSPHRASE`, `--export-passphrase-file` or a prompt.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from securechat.cli.common import (
    Context,
    for_role,
    new_kdf_params,
    positive_int,
    read_new_secret,
    read_secret,
)
from securechat.errors import InvalidInput, NotFound, PlaintextExportRefused
from securechat.notes import (
    TEMPLATES,
    NoteBook,
    export_encrypted,
    export_markdown,
    read_encrypted_export,
    verify_chain,
)

__all__ = ["EXIT_INTEGRITY", "EXPORT_PASSPHRASE_ENV", "register"]

EXPORT_PASSPHRASE_ENV = "SECURECHAT_EXPORT_PASSPHRASE"  # noqa: S105 - a variable name
EXIT_INTEGRITY = 4


def register(sub: Any) -> None:
    """Add the `notes` group to `sub` (an argparse subparsers object)."""
    notes = sub.add_parser("notes", help="counselor notes (stay on this device)")
    nsub = notes.add_subparsers(dest="notes_command", required=True, metavar="ACTION")

    p = nsub.add_parser("add", help="write a new note")
    _whose_args(p, required=True)
    p.add_argument("--session", required=True, help="session label, e.g. 2026-11-21 or 3")
    p.add_argument("--template", choices=sorted(TEMPLATES), default="free")
    _section_args(p)
    p.set_defaults(handler=_add)
    for_role(p, "counselor")

    p = nsub.add_parser("edit", help="add a revision; sections not given keep their text")
    p.add_argument("note_id", type=int)
    _section_args(p)
    p.set_defaults(handler=_edit)
    for_role(p, "counselor")

    p = nsub.add_parser("list", help="list notes (no text)")
    _whose_args(p, required=False)
    p.add_argument("--session")
    p.set_defaults(handler=_list)
    for_role(p, "counselor")

    p = nsub.add_parser("show", help="show a note (recorded in the audit log)")
    p.add_argument("note_id", type=int)
    p.add_argument("--history", action="store_true", help="every revision")
    p.set_defaults(handler=_show)
    for_role(p, "counselor")

    p = nsub.add_parser("search", help="full-text search over current notes")
    p.add_argument("query")
    p.add_argument("--limit", type=positive_int, default=50, help="at most this many (1-500)")
    p.set_defaults(handler=_search)
    for_role(p, "counselor")

    p = nsub.add_parser("export", help="export notes, encrypted unless --format markdown")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--format", choices=("encrypted", "markdown"), default="encrypted")
    p.add_argument(
        "--plaintext",
        action="store_true",
        help="required with --format markdown: I understand the file is not encrypted",
    )
    p.add_argument("--note", type=int, action="append", dest="note_ids")
    p.add_argument("--export-passphrase-file", type=Path)
    p.set_defaults(handler=_export)
    for_role(p, "counselor")

    p = nsub.add_parser("read-export", help="decrypt an encrypted export and print its notes")
    p.add_argument("file", type=Path)
    p.add_argument("--export-passphrase-file", type=Path)
    p.set_defaults(handler=_read_export)

    p = nsub.add_parser("verify", help="check the audit log's hash chain")
    p.set_defaults(handler=_verify)
    for_role(p, "counselor")


def _section_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--section",
        action="append",
        default=[],
        metavar="NAME=TEXT",
        help="a section's text, e.g. --section plan='...' (free notes: --section note=...)",
    )
    p.add_argument("--text", help="shorthand for the single section of a free note")
    p.add_argument("--from-file", type=Path, help="a JSON object of section name to text")


def _sections(args: argparse.Namespace) -> dict[str, str]:
    out: dict[str, str] = {}
    if args.from_file is not None:
        try:
            data: Any = json.loads(args.from_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput("The sections file must be a JSON object of text.") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise InvalidInput("The sections file must be a JSON object of text.")
        out.update({str(k): v for k, v in data.items()})
    for item in args.section:
        name, sep, text = str(item).partition("=")
        if not sep or not name:
            raise InvalidInput("Give a section as NAME=TEXT.")
        out[name.strip()] = text
    if args.text is not None:
        out["note"] = args.text
    if not out:
        raise InvalidInput("The note is empty: give --section, --text or --from-file.")
    return out


def _whose_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    whose = p.add_mutually_exclusive_group(required=required)
    whose.add_argument(
        "--conversation", type=int, help="the conversation number that 'conversations' shows"
    )
    whose.add_argument("--client", type=int, help="the client's contact number")


def _client_of(profile: Any, args: argparse.Namespace) -> int | None:
    """The contact a note belongs to: `--client` as given, or `--conversation`'s client.

    Raises:
        NotFound: no such conversation.
    """
    if args.conversation is None:
        return None if args.client is None else int(args.client)
    row = profile.store.conn.execute(
        "SELECT contact_id FROM conversations WHERE id = ?", (args.conversation,)
    ).fetchone()
    if row is None:
        raise NotFound("There is no such conversation.")
    return int(row[0])


def _add(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        client = _client_of(profile, args)
        assert client is not None  # noqa: S101 (argparse requires one of the two)
        note = NoteBook(profile.store).add(client, args.session, args.template, _sections(args))
        ctx.emit(
            {"event": "note_added", "note_id": note.id, "revision": note.revision},
            f"Saved note {note.id}.",
        )
    return 0


def _edit(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        note = NoteBook(profile.store).edit(args.note_id, _sections(args), merge=True)
        ctx.emit(
            {"event": "note_edited", "note_id": note.id, "revision": note.revision},
            f"Saved note {note.id}, revision {note.revision}.",
        )
    return 0


def _list(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        rows = NoteBook(profile.store).list_notes(_client_of(profile, args), args.session)
        if not rows and not ctx.json:
            ctx.emit({}, "No notes.")
        for s in rows:
            ctx.emit(
                {
                    "note_id": s.id,
                    "client": s.contact_id,
                    "session": s.session_id,
                    "template": s.template,
                    "revision": s.revision,
                    "updated_at": s.updated_at,
                },
                f"{s.id}\tclient {s.contact_id}\tsession {s.session_id}\t{s.template}"
                f"\trev {s.revision}",
            )
    return 0


def _show(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        book = NoteBook(profile.store)
        if args.history:
            for rev in book.revisions(args.note_id):
                ctx.emit(
                    {
                        "note_id": rev.note_id,
                        "revision": rev.revision,
                        "created_at": rev.created_at,
                        "sections": dict(rev.sections),
                    },
                    _render(f"Note {rev.note_id}, revision {rev.revision}", rev.sections),
                )
        else:
            note = book.open(args.note_id)
            ctx.emit(
                {
                    "note_id": note.id,
                    "client": note.contact_id,
                    "session": note.session_id,
                    "template": note.template,
                    "revision": note.revision,
                    "sections": dict(note.sections),
                },
                _render(
                    f"Note {note.id} (client {note.contact_id}, session {note.session_id}, "
                    f"{note.template}, revision {note.revision})",
                    note.sections,
                ),
            )
    return 0


def _render(title: str, sections: Any) -> str:
    lines = [title]
    for name, text in sections.items():
        lines.append(f"  [{name}] {text}")
    return "\n".join(lines)


def _search(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        hits = NoteBook(profile.store).search(args.query, limit=args.limit)
        if not hits and not ctx.json:
            ctx.emit({}, "No matching notes.")
        for hit in hits:
            ctx.emit(
                {
                    "note_id": hit.note_id,
                    "client": hit.contact_id,
                    "session": hit.session_id,
                    "snippet": hit.snippet,
                },
                f"{hit.note_id}\tclient {hit.contact_id}\tsession {hit.session_id}\t"
                + " ".join(hit.snippet.split()),  # one line per hit
            )
    return 0


def _export(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        if args.format == "markdown":
            if not args.plaintext:
                raise PlaintextExportRefused(
                    PlaintextExportRefused.default_message.replace(
                        "Ask for it explicitly", "Add --plaintext"
                    )
                )
            count = export_markdown(
                profile.store,
                args.out,
                plaintext_confirmed=bool(args.plaintext),
                note_ids=args.note_ids,
            )
        else:
            secret = read_new_secret(
                EXPORT_PASSPHRASE_ENV,
                args.export_passphrase_file,
                "export passphrase",
                "--export-passphrase-file",
            )
            count = export_encrypted(
                profile.store, args.out, secret, note_ids=args.note_ids, kdf=new_kdf_params()
            )
        ctx.emit(
            {"event": "notes_exported", "format": args.format, "notes": count},
            f"Exported {count} notes ({args.format}).",
        )
    return 0


def _read_export(ctx: Context, args: argparse.Namespace) -> int:
    secret = read_secret(
        EXPORT_PASSPHRASE_ENV,
        args.export_passphrase_file,
        "export passphrase",
        "--export-passphrase-file",
    )
    doc = read_encrypted_export(args.file, secret)
    for note in doc["notes"]:
        current = note["revisions"][-1]
        ctx.emit(
            {
                "note_id": note["id"],
                "client": note["contact_id"],
                "session": note["session_id"],
                "revisions": len(note["revisions"]),
                "sections": current["sections"],
            },
            _render(f"Note {note['id']} (revision {current['revision']})", current["sections"]),
        )
    return 0


def _verify(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        report = verify_chain(profile.store)
        record: dict[str, Any] = {"ok": report.ok, "entries": report.entries}
        if report.ok:
            record["head"] = report.head
            text = f"The audit log is intact: {report.entries} entries, head {report.head}."
        else:
            record["first_bad_seq"] = report.first_bad_seq
            record["reason"] = report.reason
            text = (
                f"The audit log has been tampered with: {report.reason} "
                f"(entry {report.first_bad_seq})."
            )
        ctx.emit(record, text)
    return 0 if report.ok else EXIT_INTEGRITY
