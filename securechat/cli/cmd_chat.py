"""CLI commands for conversations, driven through `securechat.service.Service`.

    publish --relay URL [--profile-file F] [--disclosure-en F] [--disclosure-id F] [--directory]
    open INVITE                  show the counselor's profile and disclosure (sends nothing)
    consent INVITE [--language en|id] [--message TEXT]
    conversations
    send CONVERSATION TEXT       encrypt and queue (works offline; `sync` delivers)
    sync [--wait SECONDS]        connect, flush the outbox, receive and acknowledge
    history CONVERSATION [--limit N]
    safety-number CONVERSATION [--verified]
    withdraw CONVERSATION

`publish` is for counselor profiles only, `open` and `consent` for client profiles only
(`for_role`): the other role is refused before anything is fetched or written.

The service runs without background connections (`autoconnect=False`): only `sync` (and the
one-off relay commands of publish, open and consent) talk to a relay.

Everything the other person chose (names, message text, summaries, referrals, the counselor's
profile and disclosure) is untrusted: human-readable output shows it through `shown` (one
line) or `shown_lines` (continuation lines indented), never raw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from securechat import api
from securechat.cli.common import Context, for_role, positive_int, shown, shown_lines
from securechat.disclosure import CounselorProfile, DisclosureBook
from securechat.errors import InvalidInput, KeyringUnavailable, NotRemembered
from securechat.service import Service

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the conversation commands to `sub` (an argparse subparsers object)."""
    p = sub.add_parser("publish", help="counselor: publish profile and disclosure; print invite")
    p.add_argument("--relay", required=True, help="the relay's ws:// or wss:// URL")
    p.add_argument("--profile-file", type=Path, help="JSON of the public profile fields")
    p.add_argument("--disclosure", type=Path, help="UTF-8 English disclosure text")
    p.add_argument("--disclosure-id", type=Path, help="UTF-8 Indonesian disclosure text")
    p.add_argument("--directory", action="store_true", help="list me in the relay directory")
    p.set_defaults(handler=_publish)
    for_role(p, "counselor")

    p = sub.add_parser("open", help="client: show an invite's profile and disclosure")
    p.add_argument("invite")
    p.set_defaults(handler=_open)
    for_role(p, "client")

    p = sub.add_parser("consent", help="client: consent to the disclosure and say hello")
    p.add_argument("invite")
    p.add_argument("--language", choices=("en", "id"), default="en")
    p.add_argument("--message", default="", help="your first words")
    p.set_defaults(handler=_consent)
    for_role(p, "client")

    p = sub.add_parser(
        "conversations", help="list conversations (peers who share a name are marked)"
    )
    p.set_defaults(handler=_conversations)

    p = sub.add_parser("send", help="send a text (queued offline; sync delivers it)")
    p.add_argument("conversation")
    p.add_argument("text")
    p.set_defaults(handler=_send)

    p = sub.add_parser("sync", help="connect, send what is queued, receive what is waiting")
    p.add_argument("--wait", type=float, default=0.0, help="then keep listening this long")
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="give up (exit 1, nothing lost) if a relay is not reachable within this many seconds",
    )
    p.set_defaults(handler=_sync)

    p = sub.add_parser("history", help="print a conversation")
    p.add_argument("conversation")
    p.add_argument("--limit", type=positive_int, default=1000)
    p.set_defaults(handler=_history)

    p = sub.add_parser("safety-number", help="print the safety number to compare")
    p.add_argument("conversation")
    p.add_argument("--verified", action="store_true", help="mark it as compared and matching")
    p.add_argument(
        "--confirm-change",
        action="store_true",
        help="accept the other person's new key after comparing (sending waits until then)",
    )
    p.set_defaults(handler=_safety)

    p = sub.add_parser("withdraw", help="withdraw consent and end the conversation")
    p.add_argument("conversation")
    p.set_defaults(handler=_withdraw)


def _run(ctx: Context, body: Callable[[Service], Awaitable[int]]) -> int:
    async def main() -> int:
        service = Service(ctx.home, autoconnect=False)
        try:
            name = ctx.resolve_profile_name()
            passphrase = ctx.passphrase()
            if passphrase is None:
                try:
                    await service.unlock(name, None)
                except (KeyringUnavailable, NotRemembered):
                    await service.unlock(name, ctx.ask_passphrase(f"Passphrase for {name}: "))
            else:
                await service.unlock(name, passphrase)
            ctx.check_role(service._profile_or_raise().role)
            return await body(service)
        finally:
            await service.close()

    return asyncio.run(main())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("The file cannot be read as UTF-8 text.") from exc


def _publish(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        profile = service._profile_or_raise()
        book = DisclosureBook(profile.store)
        if args.profile_file is not None:
            try:
                fields = json.loads(_read(args.profile_file))
                book.set_profile(CounselorProfile.from_json(json.dumps(fields)))
            except ValueError as exc:
                raise InvalidInput("The profile file is not valid JSON.") from exc
            book.regenerate_default()
        if args.disclosure is not None:
            book.edit("en", _read(args.disclosure))
        if args.disclosure_id is not None:
            book.edit("id", _read(args.disclosure_id))
        invite = await service.publish(args.relay, directory=args.directory)
        ctx.emit({"event": "published", "invite": invite}, invite)
        return 0

    return _run(ctx, body)


def _show_invite(ctx: Context, view: api.InviteView) -> None:
    record = {
        "event": "invite",
        "counselor": view.counselor_name,
        "credentials": view.credentials,
        "specializations": list(view.specializations),
        "languages": list(view.languages),
        "service_hours": view.service_hours,
        "time_zone": view.time_zone,
        "response_time": view.response_time,
        "disclosures": [
            {"language": d.language, "version": d.version, "sha256": d.sha256, "text": d.text}
            for d in view.disclosures
        ],
    }
    lines = [
        f"Counselor: {shown(view.counselor_name)}",
        f"Credentials: {shown(view.credentials)}",
        f"Languages: {shown(', '.join(view.languages))}",
        f"Hours: {shown(view.service_hours)} ({shown(view.time_zone)})",
    ]
    for d in view.disclosures:
        lines += [
            "",
            f"--- Disclosure ({shown(d.language)}, version {d.version}) ---",
            "  " + shown_lines(d.text, "  "),
        ]
    lines += ["", "Nothing has been sent. To begin, run: securechat-cli consent INVITE"]
    ctx.emit(record, "\n".join(lines))


def _open(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        _show_invite(ctx, await service.open_invite(args.invite))
        return 0

    return _run(ctx, body)


def _consent(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        view = await service.open_invite(args.invite)
        conv = await service.consent(view.invite_id, args.language, args.message)
        ctx.emit(
            {"event": "consented", "conversation": conv},
            f"Consent signed; conversation {conv} started. Run 'sync' to deliver it.",
        )
        return 0

    return _run(ctx, body)


def _same_name_note(others: int) -> str:
    """A column for a peer whose name others in the list share (names are self-chosen)."""
    if not others:
        return ""
    peers = "peer" if others == 1 else "peers"
    return f"\tsame name as {others} other {peers}: compare safety numbers"


def _conversations(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        views = await service.conversations()
        for v in views:
            ctx.emit(
                {
                    "conversation": v.conversation_id,
                    "peer": v.peer_name,
                    "active": v.active,
                    "unread": v.unread,
                    "consent_version": v.consent_version,
                    "verified": v.verified,
                    "blocked_by_key_change": v.blocked_by_key_change,
                    "same_name_peers": v.same_name_peers,
                },
                f"{v.conversation_id}\t{shown(v.peer_name)}\t"
                f"{'active' if v.active else 'ended'}\tunread {v.unread}"
                + _same_name_note(v.same_name_peers),
            )
        if not views and not ctx.json:
            ctx.emit({}, "No conversations yet.")
        return 0

    return _run(ctx, body)


def _send(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        message_id = await service.send_text(args.conversation, args.text)
        ctx.emit(
            {"event": "queued", "conversation": args.conversation, "message": message_id},
            "Queued. Run 'sync' to deliver it.",
        )
        return 0

    return _run(ctx, body)


def _message_record(m: api.MessageView) -> dict[str, Any]:
    return {
        "conversation": m.conversation_id,
        "message": m.message_id,
        "outgoing": m.outgoing,
        "kind": m.kind.value,
        "text": m.text,
        "state": m.state.value,
        "sent_at": m.sent_at,
    }


def _message_line(m: api.MessageView) -> str:
    """`[conversation] < text  (state)`; a text's further lines are indented under its first."""
    prefix = f"[{m.conversation_id}] {'>' if m.outgoing else '<'} "
    if m.summary is not None:
        text = (
            "Summary: "
            + "; ".join(shown(point) for point in m.summary.key_points)
            + " | Tasks: "
            + "; ".join(shown(task) for task in m.summary.tasks)
        )
    else:
        text = shown_lines(m.text, " " * len(prefix))
    return f"{prefix}{text}  ({m.state.value})"


def _sync(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        events = service.events()
        arrived: list[api.MessageReceived] = []
        notices: list[api.Event] = []

        async def collect() -> None:
            async for event in events:
                if isinstance(event, api.MessageReceived):
                    arrived.append(event)
                elif isinstance(
                    event, api.ConsentWithdrawn | api.ConsentRequired | api.SafetyNumberChanged
                ):
                    notices.append(event)

        collector = asyncio.ensure_future(collect())
        try:
            await service.sync(timeout=args.timeout)
            if args.wait > 0:
                await asyncio.sleep(args.wait)
                await service.sync(timeout=args.timeout)
        finally:
            collector.cancel()
            await asyncio.gather(collector, return_exceptions=True)
            await events.aclose()
        wanted = {e.message_id for e in arrived}
        for conv in {e.conversation_id for e in arrived}:
            for m in await service.history(conv, 0, 1_000_000):
                if m.message_id in wanted:
                    ctx.emit(_message_record(m), _message_line(m))
        for notice in notices:
            ctx.emit(*_notice(notice))
        if not ctx.json:
            ctx.emit({}, f"Synced: {len(arrived)} new message(s).")
        return 0

    return _run(ctx, body)


def _notice(event: api.Event) -> tuple[dict[str, Any], str]:
    """What `sync` says about a change to a conversation (besides new messages)."""
    match event:
        case api.ConsentWithdrawn(conversation_id=cid, by_peer=by_peer):
            who = "The other person" if by_peer else "You"
            return (
                {"event": "consent_withdrawn", "conversation": cid, "by_peer": by_peer},
                f"[{cid}] {who} withdrew consent; the conversation has ended.",
            )
        case api.ConsentRequired(conversation_id=cid, version=version):
            return (
                {"event": "consent_required", "conversation": cid, "version": version},
                f"[{cid}] The counselor published disclosure version {version}: read it with "
                "'open' and consent again before sending.",
            )
        case api.SafetyNumberChanged(conversation_id=cid):
            return (
                {"event": "safety_number_changed", "conversation": cid},
                f"[{cid}] The other person's safety number changed: compare it, then run "
                f"'safety-number {cid} --confirm-change' to send again.",
            )
    return {"event": "notice"}, "A conversation changed."


def _history(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        total = await service.message_count(args.conversation)
        start = max(0, total - args.limit)
        for m in await service.history(args.conversation, start, args.limit):
            ctx.emit(_message_record(m), _message_line(m))
        return 0

    return _run(ctx, body)


def _safety(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        if args.confirm_change:
            await service.confirm_key_change(args.conversation)
        if args.verified:
            await service.mark_verified(args.conversation)
        view = await service.safety_number(args.conversation)
        groups = " ".join(view.digits[i : i + 5] for i in range(0, len(view.digits), 5))
        ctx.emit(
            {
                "conversation": args.conversation,
                "safety_number": view.digits,
                "verified": view.verified,
            },
            f"{groups}\n{'verified' if view.verified else 'not verified yet'}",
        )
        return 0

    return _run(ctx, body)


def _withdraw(ctx: Context, args: argparse.Namespace) -> int:
    async def body(service: Service) -> int:
        await service.withdraw_consent(args.conversation)
        ctx.emit(
            {"event": "withdrawn", "conversation": args.conversation},
            "Consent withdrawn; the conversation has ended. Run 'sync' to tell the other side.",
        )
        return 0

    return _run(ctx, body)
