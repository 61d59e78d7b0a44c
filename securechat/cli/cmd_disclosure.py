"""CLI commands for the counselor's disclosure: `disclosure show|edit|history|profile`.

Every action is for counselor profiles only (`for_role`). `disclosure profile` sets the public profile (credentials, hours, ...); with `--regenerate`
it re-renders the default text from it, which replaces any hand-edited text.

A version is a draft until it is published; saving over a draft keeps its number, saving over
a published version makes the next one (`securechat.disclosure`).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from securechat.cli.common import Context, for_role
from securechat.disclosure import LANGUAGES, CounselorProfile, DisclosureBook
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
    for_role(p, "counselor")

    p = dsub.add_parser("edit", help="replace one language's text from a UTF-8 file")
    p.add_argument("--lang", choices=LANGUAGES, required=True)
    p.add_argument("--file", type=Path, required=True)
    p.set_defaults(handler=_edit)
    for_role(p, "counselor")

    p = dsub.add_parser("history", help="list versions")
    p.set_defaults(handler=_history)
    for_role(p, "counselor")

    p = dsub.add_parser("profile", help="show or update the counselor's public profile")
    p.add_argument("--name")
    p.add_argument("--credentials")
    p.add_argument("--specialization", action="append", dest="specializations")
    p.add_argument("--language", action="append", dest="languages")
    p.add_argument("--hours", dest="service_hours")
    p.add_argument("--time-zone", dest="time_zone")
    p.add_argument("--response-hours", type=int, dest="response_time_hours")
    p.add_argument("--retention-years", type=int, dest="records_retention_years")
    p.add_argument(
        "--regenerate",
        action="store_true",
        help="re-render the default disclosure from the profile (replaces edited text)",
    )
    p.set_defaults(handler=_profile)
    for_role(p, "counselor")


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
                "published": disc.shared_at is not None,
            },
            f"Disclosure saved as version {disc.version}."
            + (
                ""
                if disc.shared_at is not None
                else " It is a draft until you publish: no client has seen it, so further"
                " edits replace it."
            ),
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
                    "published_at": disc.shared_at,
                },
                f"{disc.version}\t{disc.content_hash.hex()}\t{disc.created_at}\t"
                + ("draft" if disc.shared_at is None else f"published {disc.shared_at}"),
            )
    return 0


_PROFILE_FIELDS = (
    "name",
    "credentials",
    "specializations",
    "languages",
    "service_hours",
    "time_zone",
    "response_time_hours",
    "records_retention_years",
)


def _profile(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        book = DisclosureBook(profile.store)
        current = book.get_profile() or CounselorProfile(name=profile.display_name)
        changes: dict[str, Any] = {}
        for name in _PROFILE_FIELDS:
            value = getattr(args, name)
            if value is not None:
                changes[name] = tuple(value) if isinstance(value, list) else value
        updated = replace(current, **changes)
        if changes:
            book.set_profile(updated)
        record: dict[str, Any] = {
            name: list(v) if isinstance(v, tuple) else v for name, v in asdict(updated).items()
        }
        if args.regenerate:
            disc = book.regenerate_default()
            record["disclosure_version"] = disc.version
        ctx.emit(record)
    return 0
