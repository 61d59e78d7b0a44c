"""CLI commands about profiles: `init`, `profiles`, `passwd`, `remember`, `forget`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from securechat import profiles
from securechat.cli.common import (
    NEW_PASSPHRASE_ENV,
    PASSPHRASE_ENV,
    Context,
    new_kdf_params,
    read_new_secret,
)
from securechat.disclosure import CounselorProfile, DisclosureBook

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add this group's commands to `sub` (an argparse subparsers object)."""
    p = sub.add_parser("init", help="create a profile")
    p.add_argument("--role", required=True, choices=profiles.ROLES)
    p.add_argument("--name", required=True, help="display name")
    p.set_defaults(handler=_init)

    p = sub.add_parser("profiles", help="list profiles")
    p.set_defaults(handler=_list)

    p = sub.add_parser("passwd", help="change the passphrase")
    p.add_argument(
        "--new-passphrase-file",
        type=Path,
        help=f"read the new passphrase from this file (or set ${NEW_PASSPHRASE_ENV})",
    )
    p.set_defaults(handler=_passwd)

    p = sub.add_parser("remember", help="remember this profile's key on this device")
    p.set_defaults(handler=_remember)

    p = sub.add_parser("forget", help="forget the key remembered on this device")
    p.set_defaults(handler=_forget)


def _init(ctx: Context, args: argparse.Namespace) -> int:
    name = ctx.profile_name or "default"
    passphrase = read_new_secret(
        PASSPHRASE_ENV, ctx.passphrase_file, "passphrase", "--passphrase-file"
    )
    with profiles.create_profile(
        name, args.role, args.name, passphrase, home=ctx.home, kdf=new_kdf_params()
    ) as profile:
        if profile.role == "counselor":
            book = DisclosureBook(profile.store)
            book.set_profile(CounselorProfile(name=profile.display_name))
            book.ensure_default()
        ctx.emit(
            {"event": "profile_created", "profile": name, "role": profile.role},
            f"Created the {profile.role} profile '{name}'.",
        )
    return 0


def _list(ctx: Context, args: argparse.Namespace) -> int:
    names = profiles.list_profiles(ctx.home)
    if ctx.json:
        for name in names:
            ctx.emit({"profile": name})
    elif not names:
        ctx.emit({}, "No profiles yet. Create one with 'init'.")
    else:
        ctx.emit({}, "\n".join(names))
    return 0


def _passwd(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        new = read_new_secret(
            NEW_PASSPHRASE_ENV, args.new_passphrase_file, "passphrase", "--new-passphrase-file"
        )
        profiles.change_passphrase(profile, new, kdf=new_kdf_params())
        ctx.emit(
            {"event": "passphrase_changed", "profile": profile.name},
            "The passphrase was changed.",
        )
    return 0


def _remember(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.unlock() as profile:
        profiles.remember_on_device(profile)
        ctx.emit(
            {"event": "remembered", "profile": profile.name},
            "This device will open the profile without asking for the passphrase.",
        )
    return 0


def _forget(ctx: Context, args: argparse.Namespace) -> int:
    name = ctx.resolve_profile_name()
    removed = profiles.forget_on_device(name, home=ctx.home)
    ctx.emit(
        {"event": "forgotten", "profile": name, "was_remembered": removed},
        "This device no longer remembers the profile." if removed else "Nothing was remembered.",
    )
    return 0
