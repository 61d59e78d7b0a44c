"""The asyncio `Service` against an in-process relay: first contact, messaging, events, errors."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import msgpack
import pytest
from nacl.signing import SigningKey

from relay.client import RelayClient
from securechat import api
from securechat.errors import (
    ConsentRequired,
    InvalidInput,
    InvalidPublication,
    NotFound,
    ProfileLocked,
    RelayUnavailable,
    WrongPassphrase,
)
from securechat.invite import Invite
from securechat.relay_link import RelayLink
from securechat.service import Service
from tests.relay_process import RelayProcess
from tests.securechat.conftest import PASSPHRASE, fast_kdf

E = TypeVar("E", bound=api.Event)


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RelayProcess]:
    """A relay process on a free loopback port (the client core talks to it over a socket)."""
    process = await RelayProcess(tmp_path / "relay").start()
    yield process
    await process.stop()


async def wait_for(cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await cond():
            await asyncio.sleep(0.02)


async def make(tmp_path: Path, who: str, role: api.Role) -> Service:
    service = Service(tmp_path / who, kdf=fast_kdf())
    await service.create_profile(who.title(), role, PASSPHRASE)
    return service


async def first_event(events: AsyncIterator[api.Event], kind: type[E]) -> E:
    """The next event of type `kind` from a service's event stream (others are skipped)."""
    async with asyncio.timeout(20):
        async for event in events:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"the event stream ended without a {kind.__name__}")


@contextlib.asynccontextmanager
async def in_conversation(
    tmp_path: Path, relay: RelayProcess
) -> AsyncIterator[tuple[Service, Service, str]]:
    """Counselor Sari publishes, client Ayu consents with "hello": (counselor, client, the
    client's conversation id); both services are closed on exit."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        yield counselor, client, await client.consent(view.invite_id, "en", "hello")
    finally:
        await client.close()
        await counselor.close()


async def test_service_first_contact_and_messages(tmp_path: Path, relay: RelayProcess) -> None:
    """publish → open (sends nothing) → consent → texts both ways, with receipts and events."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    events = client.events()
    try:
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        assert view.counselor_name == "Sari"
        assert {d.language for d in view.disclosures} == {"en", "id"}
        assert await client.conversations() == []
        cid = await client.consent(view.invite_id, "id", "Halo, saya butuh bantuan")
        assert await anext(events) == api.ConversationStarted(cid)

        async def counselor_has_it() -> bool:
            return len(await counselor.conversations()) == 1

        await wait_for(counselor_has_it)
        (sview,) = await counselor.conversations()
        sid = sview.conversation_id
        assert sview.peer_name == "Ayu"  # the name the client chose to show

        async def client_active() -> bool:
            return (await client.conversations())[0].active and (await client.history(cid, 0, 10))[
                0
            ].state is api.DeliveryState.DELIVERED

        await wait_for(client_active)
        for i in range(30):
            await client.send_text(cid, f"c{i}")
        await asyncio.gather(*(counselor.send_text(sid, f"s{i}") for i in range(30)))

        async def all_arrived() -> bool:
            a = [m.text for m in await counselor.history(sid, 0, 1000) if not m.outgoing]
            b = [m.text for m in await client.history(cid, 0, 1000) if not m.outgoing]
            return len(a) == 31 and len(b) == 30

        await wait_for(all_arrived)
        got = [m.text for m in await counselor.history(sid, 0, 1000) if not m.outgoing]
        assert got == ["Halo, saya butuh bantuan"] + [f"c{i}" for i in range(30)]
        got = [m.text for m in await client.history(cid, 0, 1000) if not m.outgoing]
        assert got == [f"s{i}" for i in range(30)]
        a = await client.safety_number(cid)
        b = await counselor.safety_number(sid)
        assert a.digits == b.digits
        assert len(a.digits) == 60
    finally:
        await events.aclose()
        await client.close()
        await counselor.close()


async def test_errors_are_specific(tmp_path: Path, relay: RelayProcess) -> None:
    """Wrong passphrase, locked profile, bad publication and an unreachable relay: clear errors."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        invite = Invite.parse(await counselor.publish(relay.url))
        other = await make(tmp_path, "imp", api.Role.COUNSELOR)
        other_invite = Invite.parse(await other.publish(relay.url))
        await other.close()
        # the invite pins one key; the publication at that address is signed by another
        mixed = Invite(invite.relay_url, other_invite.publication, invite.identity_key)
        with pytest.raises(InvalidPublication):
            await client.open_invite(mixed.to_uri())
        with pytest.raises(NotFound):
            await client.send_text("99", "x")
        dead = Invite("ws://127.0.0.1:9/ws", invite.publication, invite.identity_key)
        with pytest.raises(RelayUnavailable):
            await client.open_invite(dead.to_uri())
        name = (await client.list_profiles())[0].name
        await client.lock()
        with pytest.raises(ProfileLocked):
            await client.conversations()
        with pytest.raises(WrongPassphrase):
            await client.unlock(name, "not the passphrase")
        await client.unlock(name, PASSPHRASE)
        assert await client.conversations() == []
    finally:
        await client.close()
        await counselor.close()


async def test_new_disclosure_requires_consent_again(tmp_path: Path, relay: RelayProcess) -> None:
    """An edited disclosure reaches the client as ConsentRequired; sends are refused (nothing
    stored) until the client consents again through the invite; then messages flow."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    events = client.events()
    try:
        invite = await counselor.publish(relay.url, directory=True)
        entries = await client.directory(relay.url)
        assert [e.counselor_name for e in entries] == ["Sari"]
        view = await client.open_invite(invite)
        cid = await client.consent(view.invite_id, "en", "hello")

        async def answered() -> bool:
            h = await client.history(cid, 0, 10)
            return h[0].state is api.DeliveryState.DELIVERED

        await wait_for(answered)
        await counselor.edit_disclosure("en", "Version two of what I offer.")
        assert await first_event(events, api.ConsentRequired) == api.ConsentRequired(cid, 2)
        before = await client.message_count(cid)
        with pytest.raises(ConsentRequired):
            await client.send_text(cid, "not yet")
        assert await client.message_count(cid) == before
        assert (await client.conversations())[0].consent_version is None
        view = await client.open_invite(invite)
        assert {d.version for d in view.disclosures} == {2}
        assert await client.consent(view.invite_id, "en", "") == cid
        await client.send_text(cid, "after the new consent")
        (sview,) = await counselor.conversations()

        async def arrived() -> bool:
            texts = [m.text for m in await counselor.history(sview.conversation_id, 0, 100)]
            return "after the new consent" in texts

        await wait_for(arrived)
        assert (await client.conversations())[0].consent_version == 2
    finally:
        await events.aclose()
        await client.close()
        await counselor.close()


async def test_a_consent_to_an_older_version_is_asked_again_for_the_current_one(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """A client who opened the invite before the counselor published an edit consents to
    the version it read; the conversation starts, and the counselor's side asks at once for
    the current version, as it asks every conversation that was active at the edit."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    events = client.events()
    try:
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        assert {d.version for d in view.disclosures} == {1}
        await counselor.edit_disclosure("en", "What I offer, second version.")
        cid = await client.consent(view.invite_id, "en", "I read the first version")
        assert await first_event(events, api.ConsentRequired) == api.ConsentRequired(cid, 2)
        (sview,) = await counselor.conversations()
        assert sview.consent_version == 1  # what the client had read when it agreed
        with pytest.raises(ConsentRequired):
            await client.send_text(cid, "not before the new consent")
        view = await client.open_invite(invite)
        assert {d.version for d in view.disclosures} == {2}
        assert await client.consent(view.invite_id, "en", "") == cid

        async def counselor_has_it() -> bool:
            (conv,) = await counselor.conversations()
            return conv.consent_version == 2

        await wait_for(counselor_has_it)
    finally:
        await events.aclose()
        await client.close()
        await counselor.close()


async def test_consenting_again_with_an_active_conversation_starts_no_second_one(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """A client who opens the same counselor's invite again (from the directory, say) and
    agrees lands in the conversation it has: the first message goes there, and neither side
    gets a second conversation with the same person."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        cid = await client.consent(view.invite_id, "en", "first")
        again = await client.open_invite(invite)
        assert await client.consent(again.invite_id, "en", "second, same place") == cid
        assert [c.conversation_id for c in await client.conversations()] == [cid]

        async def counselor_got_both() -> bool:
            convs = await counselor.conversations()
            if len(convs) != 1:
                return False
            texts = [m.text for m in await counselor.history(convs[0].conversation_id, 0, 10)]
            return texts == ["first", "second, same place"]

        await wait_for(counselor_got_both)
        (conv,) = await client.conversations()
        assert conv.consent_version == 1  # consented once: the version did not change
    finally:
        await client.close()
        await counselor.close()


async def test_a_refused_settings_save_changes_nothing(tmp_path: Path) -> None:
    """If "remember on this device" fails (no keyring), no other setting is saved either:
    a retention period stored behind an error would delete history at the next unlock."""
    import keyring
    import keyring.backends.fail

    from securechat.errors import KeyringUnavailable

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    service = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        before = await service.settings()
        wanted = dataclasses.replace(
            before, remember_on_device=True, retention_days=5, language="en", region="SG"
        )
        with pytest.raises(KeyringUnavailable):
            await service.update_settings(wanted)
        assert await service.settings() == before
        saved = await service.update_settings(dataclasses.replace(wanted, remember_on_device=False))
        assert (saved.retention_days, saved.language, saved.region) == (5, "en", "SG")
    finally:
        await service.close()
        keyring.set_keyring(previous)


async def test_messages_older_than_counts_what_saving_a_shorter_period_deletes(
    tmp_path: Path,
) -> None:
    """On a real SQLCipher profile, `messages_older_than(days)` says how many messages saving
    that retention period deletes, and deletes nothing itself."""
    from securechat.store import now_ms

    service = await make(tmp_path, "sari", api.Role.COUNSELOR)
    try:
        conn = service._profile_or_raise().store.conn
        conn.execute("INSERT INTO contacts VALUES (1, x'01', 'Ayu', 'client', NULL, 0, 0)")
        conn.execute(
            "INSERT INTO conversations(id, contact_id, created_at, updated_at) VALUES (1, 1, 0, 0)"
        )
        for mid, age_days in [("a", 90), ("b", 40), ("c", 5)]:
            conn.execute(
                "INSERT INTO messages(conversation_id, message_id, direction, delivery_state, "
                "body, created_at) VALUES (1, ?, 'in', 'received', x'00', ?)",
                (mid, now_ms() - age_days * 86_400_000),
            )
        assert await service.messages_older_than(0) == 0  # keep forever
        assert await service.messages_older_than(60) == 1
        assert await service.messages_older_than(30) == 2
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
        before = await service.settings()
        await service.update_settings(dataclasses.replace(before, retention_days=30))
        assert [r[0] for r in conn.execute("SELECT message_id FROM messages")] == ["c"]
        assert await service.messages_older_than(30) == 0
    finally:
        await service.close()


async def test_only_counselors_send_summaries_and_crisis_numbers(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """A client's summary or referral is refused before anything is stored; an empty summary
    or a text of spaces or control characters only is refused too."""
    async with in_conversation(tmp_path, relay) as (counselor, client, cid):
        before = await client.message_count(cid)
        with pytest.raises(InvalidInput, match="Only a counselor"):
            await client.send_summary(cid, api.SessionSummary(("a point",), ("a task",)))
        with pytest.raises(InvalidInput, match="Only a counselor"):
            await client.send_referral(cid, "en")
        for text in (" ", "\x00", "\n\t", "\u200b"):
            with pytest.raises(InvalidInput, match="empty"):
                await client.send_text(cid, text)
        assert await client.message_count(cid) == before

        async def counselor_has_it() -> bool:
            return len(await counselor.conversations()) == 1

        await wait_for(counselor_has_it)
        (sview,) = await counselor.conversations()
        with pytest.raises(InvalidInput, match="no key point"):
            await counselor.send_summary(sview.conversation_id, api.SessionSummary((" ",), ()))


async def test_a_client_profile_keeps_no_notes_and_has_no_disclosure(tmp_path: Path) -> None:
    """Notes and disclosures are a counselor's: the core refuses them for a client's profile,
    whoever calls it, and writes nothing into it."""
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        for call in (
            client.notes("1"),
            client.save_note("1", None, "free", [("note", "x")]),
            client.search_notes("x"),
            client.disclosures(),
            client.edit_disclosure("en", "What I offer."),
            client.counselor_profile(),
        ):
            with pytest.raises(InvalidInput, match="Only a counselor profile"):
                await call
        store = client._profile_or_raise().store
        for table in ("notes", "disclosures"):
            assert store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0  # noqa: S608
    finally:
        await client.close()


async def test_confirming_a_key_change_that_did_not_happen_keeps_the_verification(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """`confirm_key_change` without a changed key does nothing: a stray click must not undo
    a safety number compared in person, nor add a system message."""
    async with in_conversation(tmp_path, relay) as (_counselor, client, cid):
        await client.mark_verified(cid)
        count = await client.message_count(cid)
        await client.confirm_key_change(cid)
        assert (await client.safety_number(cid)).verified
        assert await client.message_count(cid) == count


async def test_counselor_profile_is_published_and_can_rewrite_the_disclosure(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """An edited public profile reaches a client who opens the invite (republished at the same
    address); re-rendering the disclosure makes a new version; bad values change nothing."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        invite = await counselor.publish(relay.url, directory=True)
        first = await counselor.counselor_profile()
        assert first.name == "Sari"
        edited = dataclasses.replace(
            first,
            credentials="M.Psi., Psikolog",
            specializations=("grief", " family ", ""),
            response_time_hours=12,
        )
        saved = await counselor.update_counselor_profile(edited)
        assert saved.specializations == ("grief", "family")
        assert await counselor.counselor_profile() == saved
        assert {d.version for d in await counselor.disclosures()} == {1}

        view = await client.open_invite(invite)  # the same link shows the new profile
        assert view.credentials == "M.Psi., Psikolog"
        assert view.specializations == ("grief", "family")
        (entry,) = await client.directory(relay.url)
        assert entry.specializations == ("grief", "family")

        await counselor.update_counselor_profile(saved, regenerate_disclosure=True)
        texts = {d.language: d for d in await counselor.disclosures()}
        assert texts["en"].version == 2
        assert "M.Psi., Psikolog" in texts["en"].text

        with pytest.raises(InvalidInput):
            await counselor.update_counselor_profile(dataclasses.replace(saved, name="  "))
        with pytest.raises(InvalidInput):
            await counselor.update_counselor_profile(
                dataclasses.replace(saved, response_time_hours=0)
            )
        assert await counselor.counselor_profile() == saved
        with pytest.raises(InvalidInput):
            await client.counselor_profile()
    finally:
        await client.close()
        await counselor.close()


async def test_disclosure_versions_count_what_clients_could_see(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Filling in the profile before the first publication stays version 1, which is what the
    client reads; after publishing, a change is version 2 and a change back is version 3 with
    version 1's text (it used to fail on the disclosure's unique hash)."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        first = await counselor.counselor_profile()
        filled = dataclasses.replace(first, credentials="M.Psi., Psikolog")
        await counselor.update_counselor_profile(filled, regenerate_disclosure=True)
        assert {d.version for d in await counselor.disclosures()} == {1}
        invite = await counselor.publish(relay.url)
        view = await client.open_invite(invite)
        assert {d.version for d in view.disclosures} == {1}
        assert all("M.Psi., Psikolog" in d.text for d in view.disclosures)
        v1 = {d.language: d.text for d in view.disclosures}

        slower = dataclasses.replace(filled, response_time_hours=72)
        await counselor.update_counselor_profile(slower, regenerate_disclosure=True)
        assert {d.version for d in await counselor.disclosures()} == {2}
        await counselor.update_counselor_profile(filled, regenerate_disclosure=True)
        back = await counselor.disclosures()
        assert {d.version for d in back} == {3}
        assert {d.language: d.text for d in back} == v1
        view = await client.open_invite(invite)
        assert {d.version for d in view.disclosures} == {3}
    finally:
        await client.close()
        await counselor.close()


async def test_quick_exit_drops_the_key_before_the_relay_links_close(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """lock("quick-exit") locks the profile at once; a relay link that is slow to close does
    not keep the key in memory meanwhile (the link finishes closing afterwards)."""
    gate = asyncio.Event()

    class SlowToClose(RelayLink):
        async def stop(self) -> None:
            await gate.wait()
            await super().stop()

    counselor = Service(tmp_path / "sari", kdf=fast_kdf(), link_factory=SlowToClose)
    await counselor.create_profile("Sari", api.Role.COUNSELOR, PASSPHRASE)
    await counselor.publish(relay.url)  # a live link to the relay
    locking = asyncio.create_task(counselor.lock("quick-exit"))

    async def locked() -> bool:
        try:
            await counselor.conversations()
        except ProfileLocked:
            return True
        return False

    await wait_for(locked)
    assert not locking.done()  # the link is still closing, the key is already gone
    gate.set()
    await locking
    await counselor.close()


async def test_the_directory_lists_every_page_of_the_relay(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """The relay answers DIR 100 entries at a time: a client sees all 130 listed counselors,
    not only the first page."""
    n, per_conn = 130, 8  # a connection may create 8 publications (the relay's default)
    for start in range(0, n, per_conn):
        async with await RelayClient.connect(relay.url) as c:
            for i in range(start, min(n, start + per_conn)):
                summary = msgpack.packb(
                    [
                        1,
                        f"Konselor {i:03d}",
                        ["stres"],
                        ["id"],
                        bytes(SigningKey.generate().verify_key),
                    ],
                    use_bin_type=True,
                )
                await c.publish(SigningKey.generate(), b"blob", summary=summary)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        entries = await client.directory(relay.url)
    finally:
        await client.close()
    assert sorted(e.counselor_name for e in entries) == [f"Konselor {i:03d}" for i in range(n)]


async def test_a_counselors_public_fields_reach_the_client_on_one_line_without_controls(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """Whoever publishes writes the profile and the directory summary: a right-to-left
    override, an escape sequence or a newline in them is gone before the client's screen."""
    counselor = await make(tmp_path, "sari", api.Role.COUNSELOR)
    client = await make(tmp_path, "ayu", api.Role.CLIENT)
    try:
        mine = await counselor.counselor_profile()
        await counselor.update_counselor_profile(
            dataclasses.replace(
                mine,
                name="Sari \u202eiweD\u202c",
                credentials="M.Psi.\n\x1b[31mVerified by the ministry",
                specializations=("stres\u200b", "\u202e"),
            )
        )
        invite = await counselor.publish(relay.url, directory=True)
        (entry,) = await client.directory(relay.url)
        view = await client.open_invite(invite)
    finally:
        await client.close()
        await counselor.close()
    assert entry.counselor_name == view.counselor_name == "Sari iweD"
    assert view.credentials == "M.Psi. [31mVerified by the ministry"
    assert entry.specializations == view.specializations == ("stres",)
