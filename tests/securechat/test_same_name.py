"""Peers who go by the same name are marked in the conversation list, both ways.

Names are chosen by people themselves; the identity is the key. Each `ConversationView` counts
the other peers in the list whose name is the same after NFKC, case and whitespace folding
(`same_name_peers`). The flows run through `Service` and a real relay process; the CLI's
list runs as a subprocess on profiles the engine harness filled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from securechat import api
from securechat.conversations.base import same_name_key
from securechat.service import Service
from tests.relay_process import RelayProcess
from tests.securechat.conftest import PASSPHRASE, fast_kdf
from tests.securechat.engine_helpers import FakeRelay, first_contact, make_profile
from tests.securechat.test_cli import lines, run
from tests.securechat.test_service import wait_for


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[RelayProcess]:
    """A relay process on a free loopback port."""
    process = await RelayProcess(tmp_path / "relay").start()
    yield process
    await process.stop()


async def person(tmp_path: Path, folder: str, name: str, role: api.Role) -> Service:
    """A new profile (own keys, own home) that calls itself `name`."""
    service = Service(tmp_path / folder, kdf=fast_kdf())
    await service.create_profile(name, role, PASSPHRASE)
    return service


async def listed(service: Service, count: int) -> list[api.ConversationView]:
    """The service's conversations, once it holds `count` of them."""

    async def arrived() -> bool:
        return len(await service.conversations()) == count

    await wait_for(arrived)
    return list(await service.conversations())


def test_spellings_that_look_alike_share_one_name() -> None:
    """Case, spaces, full-width letters and invisible characters do not make a name another."""
    key = same_name_key("Ayu")
    for spelling in (
        "ayu ",
        " AYU",
        "A yu",
        "\uff21\uff59\uff55",
        "\uff41\uff59\uff55",
        "Ayu\u200b",
        "A\u00a0yu\t",
    ):
        assert same_name_key(spelling) == key, spelling
    assert same_name_key("Dewi Lestari") == same_name_key("dewi  LESTARI")


def test_different_names_stay_apart() -> None:
    """Other letters are another name, a look-alike from another script too (NFKC does
    not map one script to another; the safety number is the check)."""
    key = same_name_key("Ayu")
    for other in ("Ayu2", "Ayuu", "Ayo", "Aya", "Klien 1", "\u0410yu"):  # Cyrillic A
        assert same_name_key(other) != key, other
    assert same_name_key("Klien 1") != same_name_key("Klien 2")


async def test_a_client_under_a_new_profile_and_the_first_are_both_marked(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """A client who made a new profile (new keys) under the same name (here in full-width
    letters) and consented again is a second peer for the counselor: both conversations count
    one other peer of that name; a client with another name counts none."""
    counselor = await person(tmp_path, "sari", "Sari", api.Role.COUNSELOR)
    clients = [
        await person(tmp_path, folder, name, api.Role.CLIENT)
        for folder, name in (
            ("ayu", "Ayu"),
            ("ayu-again", " \uff41\uff59\uff55 "),
            ("budi", "Budi"),
        )
    ]
    try:
        invite = await counselor.publish(relay.url)
        for client in clients:
            view = await client.open_invite(invite)
            await client.consent(view.invite_id, "en", "halo")
        views = await listed(counselor, 3)
        marks = {v.peer_name: v.same_name_peers for v in views}
        assert marks == {"Ayu": 1, "\uff41\uff59\uff55": 1, "Budi": 0}  # stored without the spaces
    finally:
        for service in (*clients, counselor):
            await service.close()


async def test_a_new_conversation_with_the_same_peer_is_not_marked(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """After a withdrawal the same client (same key) consents again: the counselor lists two
    conversations with one peer, and neither is marked."""
    counselor = await person(tmp_path, "sari", "Sari", api.Role.COUNSELOR)
    client = await person(tmp_path, "ayu", "Ayu", api.Role.CLIENT)
    try:
        invite = await counselor.publish(relay.url)
        first = await client.consent((await client.open_invite(invite)).invite_id, "en", "halo")
        await listed(counselor, 1)
        await client.withdraw_consent(first)

        async def ended() -> bool:
            return not (await counselor.conversations())[0].active

        await wait_for(ended)
        again = await client.consent((await client.open_invite(invite)).invite_id, "en", "lagi")
        assert again != first
        views = await listed(counselor, 2)
        assert [v.same_name_peers for v in views] == [0, 0]
        assert [v.same_name_peers for v in await client.conversations()] == [0, 0]
    finally:
        await client.close()
        await counselor.close()


async def test_a_client_with_two_counselors_of_the_same_name_sees_both_marked(
    tmp_path: Path, relay: RelayProcess
) -> None:
    """The rule holds the other way: a client who consented to two counselors who both call
    themselves Sari (in different case) sees both conversations marked."""
    counselors = [
        await person(tmp_path, folder, name, api.Role.COUNSELOR)
        for folder, name in (("sari", "Sari"), ("sari-2", "SARI"), ("rina", "Rina"))
    ]
    client = await person(tmp_path, "ayu", "Ayu", api.Role.CLIENT)
    try:
        for counselor in counselors:
            view = await client.open_invite(await counselor.publish(relay.url))
            await client.consent(view.invite_id, "en", "halo")
        marks = {v.peer_name: v.same_name_peers for v in await client.conversations()}
        assert marks == {"Sari": 1, "SARI": 1, "Rina": 0}
    finally:
        for service in (client, *counselors):
            await service.close()


@pytest.fixture
def counselor_home(tmp_path: Path) -> tuple[Path, list[str]]:
    """A counselor (profile 'sari') who talks with Ayu, with a second Ayu under other keys and
    with Budi; returns the home and the counselor's conversation ids in that order."""
    home = tmp_path / "home"
    relay = FakeRelay()
    sari, counselor = make_profile(home, "sari", "counselor")
    ids = []
    for folder, name in (("ayu", "Ayu"), ("ayu-again", "AYU"), ("budi", "Budi")):
        client_profile, client = make_profile(home, folder, "client")
        ids.append(str(first_contact(relay, counselor, client, name=name)[1]))
        client_profile.lock()
    sari.lock()
    return home, ids


def test_the_cli_list_says_which_peers_share_a_name(
    counselor_home: tuple[Path, list[str]],
) -> None:
    """`conversations` adds a column to each peer whose name another peer shares, telling the
    reader to compare safety numbers; a peer with a name of its own gets no such column."""
    home, (ayu, ayu_again, budi) = counselor_home
    result = run(home, "--profile", "sari", "conversations", passphrase=PASSPHRASE)
    assert result.returncode == 0, result.stderr
    note = "\tsame name as 1 other peer: compare safety numbers"
    assert sorted(result.stdout.splitlines()) == sorted(
        [
            f"{ayu}\tAyu\tactive\tunread 1{note}",
            f"{ayu_again}\tAYU\tactive\tunread 1{note}",
            f"{budi}\tBudi\tactive\tunread 1",
        ]
    )


def test_the_cli_json_list_counts_the_peers_that_share_a_name(
    counselor_home: tuple[Path, list[str]],
) -> None:
    """`--json conversations` gives every conversation `same_name_peers`, 0 when none."""
    home, (ayu, ayu_again, budi) = counselor_home
    result = run(home, "--profile", "sari", "--json", "conversations", passphrase=PASSPHRASE)
    assert result.returncode == 0, result.stderr
    counted = {line["conversation"]: line["same_name_peers"] for line in lines(result)}
    assert counted == {ayu: 1, ayu_again: 1, budi: 0}
