"""CLI commands for the counselor's disclosure: `disclosure show|edit|history`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from securechat.cli.common import Context
from securechat.disclosure import LANGUAGES, DisclosureBook
from securechat.errors import InvalidInput

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the `disclosure` group to `sub` (an argparse subparsers object)."""
    group = sub.add_parser("disclosure", help="the counselor's disclosure (en and id)")
    dsub = group.add_subparsers(dest="disclosure_command", required=True, metavar="ACTION")

    p = dsub.add_parser("show", help="print the current (or a given) version")
    p.add_argument("--lang", choices=(*LANGUAGES, "all"), default="all")
    p.add_argument("--version", type=int)
    p.set_defaults(handler=_show)

    p = dsub.add_parser("edit", help="replace one language's text from a UTF-8 file")
    p.add_argument("--lang", choices=LANGUAGES, required=True)
    p.add_argument("--file", type=Path, required=True)
    p.set_defaults(handler=_edit)

    p = dsub.add_parser("history", help="list versions")
    p.set_defaults(handler=_history)


def _show(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        book = DisclosureBook(profile.store)
        disc = book.get(args.version) if args.version else book.ensure_default()
        langs = LANGUAGES if args.lang == "all" else (args.lang,)
        for lang in langs:
            ctx.emit(
                {
                    "version": disc.version,
                    "content_hash": disc.content_hash.hex(),
                    "lang": lang,
                    "text": disc.texts[lang],
                },
                f"--- version {disc.version} [{lang}] sha256 {disc.content_hash.hex()}\n"
                f"{disc.texts[lang]}",
            )
    return 0


def _edit(ctx: Context, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("The disclosure file cannot be read as UTF-8 text.") from exc
    with ctx.unlock() as profile:
        disc = DisclosureBook(profile.store).edit(args.lang, text)
        ctx.emit(
            {
                "event": "disclosure_saved",
                "version": disc.version,
                "content_hash": disc.content_hash.hex(),
            },
            f"Disclosure saved as version {disc.version}.",
        )
    return 0


def _history(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        for disc in DisclosureBook(profile.store).history():
            ctx.emit(
                {
                    "version": disc.version,
                    "content_hash": disc.content_hash.hex(),
                    "created_at": disc.created_at,
                },
                f"{disc.version}\t{disc.content_hash.hex()}\t{disc.created_at}",
            )
    return 0
