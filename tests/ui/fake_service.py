"""An in-memory `ServiceAPI` for the UI's tests, screenshots and benchmarks.

It lives under tests/ only and `ui/` never imports it. It keeps everything in memory, records
each command in `calls`, raises errors whose class names match the core's (`WrongPassphrase`,
...), and lets a test inject events from any thread with `emit` / `receive`.

It refuses to run unless `SECURECHAT_ALLOW_FAKE=1` or pytest is running, so a release build can
never be handed a fake core by mistake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence

from securechat.api import (
    ConsentRequired,
    ConversationStarted,
    ConversationView,
    CounselorProfileView,
    DeliveryChanged,
    DeliveryState,
    DirectoryEntry,
    DisclosureView,
    Event,
    InviteView,
    MessageKind,
    MessageReceived,
    MessageView,
    NoteView,
    ProfileLocked,
    ProfileView,
    Role,
    SafetyNumberChanged,
    SafetyNumberView,
    SessionSummary,
    SettingsView,
)
from securechat.errors import (
    InvalidInput,
    InvalidInvite,
    ProfileExists,
    WrongPassphrase,
)
from securechat.notes.templates import get_template, normalise_sections

__all__ = ["FakeService", "InvalidInvite", "ProfileExists", "WrongPassphrase"]


DISCLOSURE_EN = (
    "About this service\n\n"
    "I am a counselor offering text counseling for everyday worries: stress, study, work, "
    "family and relationships. This is not an emergency service and I do not make diagnoses.\n\n"
    "Text has limits: I cannot see your face or hear your voice, so I will ask before I "
    "assume. I answer on weekdays between 09:00 and 17:00 WIB, usually within one working day.\n\n"
    "If you are in danger, call 112 or 119 ext. 8 at once.\n\n"
    "What you write is end-to-end encrypted: only you and I can read it. I keep my session "
    "notes encrypted on my own computer. Please write from a private place and do not forward "
    "or screenshot our conversation. You can withdraw your consent at any time."
)
DISCLOSURE_ID = (
    "Tentang layanan ini\n\n"
    "Saya konselor yang melayani konseling lewat teks untuk kekhawatiran sehari-hari: stres, "
    "kuliah, pekerjaan, keluarga, dan hubungan. Ini bukan layanan darurat dan saya tidak "
    "memberikan diagnosis.\n\n"
    "Teks punya keterbatasan: saya tidak dapat melihat wajah atau mendengar suara Anda, jadi "
    "saya akan bertanya dulu sebelum menyimpulkan. Saya menjawab Senin sampai Jumat pukul "
    "09.00-17.00 WIB, biasanya dalam satu hari kerja.\n\n"
    "Jika Anda dalam bahaya, segera hubungi 112 atau 119 ext. 8.\n\n"
    "Isi percakapan dienkripsi ujung ke ujung: hanya Anda dan saya yang dapat membacanya. "
    "Catatan sesi saya simpan terenkripsi di komputer saya sendiri. Mohon menulis dari tempat "
    "yang privat dan jangan meneruskan atau menangkap layar percakapan kita. Anda dapat menarik "
    "persetujuan kapan saja."
)

INVITE_LINK = (
    "securechat:invite?v=1&relay=ws%3A%2F%2F127.0.0.1%3A8443&pub=AAAAAAAAAAAAAAAAAAAAAA&key=BBBB"
)

DIRECTORY = (
    DirectoryEntry(INVITE_LINK, "Rina Wulandari, M.Psi.", ("stress", "study"), ("id", "en")),
    DirectoryEntry(INVITE_LINK + "2", "Andreas Putra, M.Psi.", ("family", "grief"), ("id",)),
    DirectoryEntry(INVITE_LINK + "3", "Maya Lestari, S.Psi.", ("relationships",), ("en",)),
)


def _allowed() -> bool:
    return os.environ.get("SECURECHAT_ALLOW_FAKE") == "1" or "pytest" in sys.modules


class FakeService:
    """Implements `securechat.api.ServiceAPI` in memory."""

    def __init__(
        self,
        *,
        role: Role = Role.CLIENT,
        passphrase: str = "correct horse battery",
        profiles: Sequence[ProfileView] | None = None,
        messages: int = 0,
        conversations: int = 1,
        unlock_delay: float = 0.0,
    ) -> None:
        if not _allowed():
            raise RuntimeError("FakeService is a test double; it does not run in a release")
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.passphrase = passphrase
        self.unlock_delay = unlock_delay
        self.role = role
        self.profiles: list[ProfileView] = list(
            profiles if profiles is not None else [ProfileView("ayu", "Ayu", role, False)]
        )
        self.unlocked: str | None = None
        self.published = True  # False: the disclosure is a draft, and saving keeps version 1
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Event] | None = None
        self._pending: list[Event] = []
        self.settings_view = SettingsView(
            relay_url="wss://relay.example.org",
            language="en",
            auto_lock_minutes=10,
            retention_days=0,
            remember_on_device=False,
            region="ID",
        )
        self.profile_view = CounselorProfileView(
            name="Rina Wulandari, M.Psi.",
            credentials="Licensed psychologist (HIMPSI), 8 years of practice",
            specializations=("stress", "study"),
            languages=("Bahasa Indonesia", "English"),
            service_hours="Mon-Fri 09:00-17:00",
            time_zone="Asia/Jakarta (WIB, UTC+7)",
            response_time_hours=24,
            records_retention_years=5,
        )
        # what `directory` answers: these entries, after `directory_delay` seconds, or raises
        self.directory_entries: list[DirectoryEntry] = list(DIRECTORY)
        self.directory_delay = 0.0
        self.directory_error: BaseException | None = None
        self.convs: dict[str, ConversationView] = {}
        self.msgs: dict[str, list[MessageView]] = {}
        self.notes_by_id: dict[str, NoteView] = {}
        self.verified: set[str] = set()
        now = time.time()
        peers = (
            ["Rina Wulandari, M.Psi.", "Andreas Putra, M.Psi."]
            if role is Role.CLIENT
            else ["Budi", "Sari", "Dewi", "Agus", "Putri"]
        )
        for n in range(conversations):
            cid = f"c{n + 1}"
            peer = peers[n % len(peers)]
            self.convs[cid] = ConversationView(
                conversation_id=cid,
                peer_name=peer,
                role=role,
                consent_version=1,
                consent_language="en",
                active=True,
                unread=0,
                last_activity=now - n * 3600,
                verified=False,
                blocked_by_key_change=False,
            )
            self.msgs[cid] = []
        if conversations:
            self.fill("c1", messages, now=now)

    # --- helpers for tests ---------------------------------------------------------

    def fill(self, cid: str, count: int, now: float | None = None) -> None:
        """Give a conversation `count` alternating messages."""
        now = time.time() if now is None else now
        lines = [
            "Hello, thank you for writing. How are you feeling today?",
            "A bit tired. Exams are close and I cannot sleep well.",
            "That sounds hard. What usually helps you rest, even a little?",
            "Walking in the evening, but I stopped doing it.",
        ]
        out = self.msgs.setdefault(cid, [])
        base = now - count * 60
        for i in range(count):
            out.append(
                MessageView(
                    message_id=f"{cid}-m{len(out)}",
                    conversation_id=cid,
                    outgoing=i % 2 == 1,
                    kind=MessageKind.TEXT,
                    text=lines[i % len(lines)],
                    sent_at=base + i * 60,
                    state=DeliveryState.DELIVERED,
                )
            )

    def emit(self, event: Event) -> None:
        """Deliver an event to the UI; safe from any thread."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            self._pending.append(event)
            return
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def receive(
        self,
        cid: str,
        text: str,
        kind: MessageKind = MessageKind.TEXT,
        summary: SessionSummary | None = None,
    ) -> str:
        """A peer's message arrives: store it and emit `MessageReceived`."""
        with self._lock:
            mid = f"{cid}-in{next(self._ids)}"
            self.msgs[cid].append(
                MessageView(
                    mid,
                    cid,
                    False,
                    kind,
                    text,
                    time.time(),
                    DeliveryState.DELIVERED,
                    summary,
                    tuple(False for _ in summary.tasks) if summary else (),
                )
            )
        self.emit(MessageReceived(cid, mid))
        return mid

    def set_state(self, cid: str, mid: str, state: DeliveryState) -> None:
        with self._lock:
            msgs = self.msgs[cid]
            for i, m in enumerate(msgs):
                if m.message_id == mid:
                    msgs[i] = dataclasses.replace(m, state=state)
        self.emit(DeliveryChanged(cid, mid, state))

    def change_key(self, cid: str) -> None:
        with self._lock:
            self.convs[cid] = dataclasses.replace(self.convs[cid], blocked_by_key_change=True)
        self.emit(SafetyNumberChanged(cid))

    def require_consent(self, cid: str, version: int) -> None:
        self.emit(ConsentRequired(cid, version))

    def called(self, name: str) -> list[tuple[object, ...]]:
        return [args for n, args in self.calls if n == name]

    def _rec(self, name: str, *args: object) -> None:
        self.calls.append((name, args))

    # --- profiles ------------------------------------------------------------------

    async def list_profiles(self) -> Sequence[ProfileView]:
        self._rec("list_profiles")
        return tuple(self.profiles)

    async def create_profile(self, display_name: str, role: Role, passphrase: str) -> ProfileView:
        self._rec("create_profile", display_name, role)
        name = display_name.lower().replace(" ", "-")
        if any(p.name == name for p in self.profiles):
            raise ProfileExists
        view = ProfileView(name, display_name, role, False)
        self.profiles.append(view)
        self.passphrase = passphrase
        self.role = role
        return view

    async def unlock(self, profile: str, passphrase: str | None, remember: bool = False) -> None:
        self._rec("unlock", profile, remember)
        if self.unlock_delay:
            await asyncio.sleep(self.unlock_delay)
        if passphrase != self.passphrase:
            raise WrongPassphrase
        self.unlocked = profile
        for p in self.profiles:
            if p.name == profile:
                self.role = p.role

    async def lock(self, reason: str = "user") -> None:
        self._rec("lock", reason)
        self.unlocked = None
        self.emit(ProfileLocked(reason))

    async def change_passphrase(self, old: str, new: str) -> None:
        self._rec("change_passphrase")
        if old != self.passphrase:
            raise WrongPassphrase
        self.passphrase = new

    # --- counselor -----------------------------------------------------------------

    async def publish(self, relay_url: str, *, directory: bool = False) -> str:
        self._rec("publish", directory)
        return INVITE_LINK

    async def disclosures(self) -> Sequence[DisclosureView]:
        draft = not self.published
        return (
            DisclosureView(1, "en", DISCLOSURE_EN, "00" * 32, draft),
            DisclosureView(1, "id", DISCLOSURE_ID, "11" * 32, draft),
        )

    async def edit_disclosure(self, language: str, text: str) -> DisclosureView:
        if not self.published:
            return DisclosureView(1, language, text, "22" * 32, True)
        return DisclosureView(2, language, text, "22" * 32)

    async def counselor_profile(self) -> CounselorProfileView:
        self._rec("counselor_profile")
        return self.profile_view

    async def update_counselor_profile(
        self, profile: CounselorProfileView, *, regenerate_disclosure: bool = False
    ) -> CounselorProfileView:
        self._rec("update_counselor_profile", profile, regenerate_disclosure)
        if not profile.name.strip():
            raise InvalidInput
        self.profile_view = profile
        return profile

    # --- client --------------------------------------------------------------------

    async def directory(self, relay_url: str) -> Sequence[DirectoryEntry]:
        self._rec("directory")
        if self.directory_delay:
            await asyncio.sleep(self.directory_delay)
        if self.directory_error is not None:
            raise self.directory_error
        return tuple(self.directory_entries)

    async def open_invite(self, invite: str) -> InviteView:
        self._rec("open_invite", invite)
        if not invite.startswith("securechat:"):
            raise InvalidInvite
        return InviteView(
            invite_id="inv1",
            counselor_name="Rina Wulandari, M.Psi.",
            credentials="Licensed psychologist (HIMPSI), 8 years of practice",
            specializations=("stress", "study", "relationships"),
            languages=("id", "en"),
            service_hours="Mon-Fri 09:00-17:00",
            time_zone="Asia/Jakarta (WIB)",
            response_time="within one working day",
            disclosures=tuple(await self.disclosures()),
        )

    async def consent(self, invite_id: str, language: str, first_message: str) -> str:
        self._rec("consent", invite_id, language, first_message)
        cid = f"c{len(self.convs) + 1}"
        with self._lock:
            self.convs[cid] = ConversationView(
                cid,
                "Rina Wulandari, M.Psi.",
                Role.CLIENT,
                1,
                language,
                True,
                0,
                time.time(),
                False,
                False,
            )
            self.msgs[cid] = [
                MessageView(
                    f"{cid}-m0",
                    cid,
                    True,
                    MessageKind.TEXT,
                    first_message,
                    time.time(),
                    DeliveryState.QUEUED,
                )
            ]
        self.emit(ConversationStarted(cid))
        return cid

    async def withdraw_consent(self, conversation_id: str) -> None:
        self._rec("withdraw_consent", conversation_id)
        self.convs[conversation_id] = dataclasses.replace(self.convs[conversation_id], active=False)

    # --- conversations -------------------------------------------------------------

    async def conversations(self) -> Sequence[ConversationView]:
        self._rec("conversations")
        with self._lock:
            return tuple(
                dataclasses.replace(c, verified=c.conversation_id in self.verified)
                for c in self.convs.values()
            )

    def _add_outgoing(
        self, cid: str, kind: MessageKind, text: str, summary: SessionSummary | None = None
    ) -> str:
        with self._lock:
            mid = f"{cid}-out{next(self._ids)}"
            self.msgs[cid].append(
                MessageView(
                    mid,
                    cid,
                    True,
                    kind,
                    text,
                    time.time(),
                    DeliveryState.QUEUED,
                    summary,
                    tuple(False for _ in summary.tasks) if summary else (),
                )
            )
        return mid

    async def send_text(self, conversation_id: str, text: str) -> str:
        self._rec("send_text", conversation_id, text)
        return self._add_outgoing(conversation_id, MessageKind.TEXT, text)

    async def send_summary(self, conversation_id: str, summary: SessionSummary) -> str:
        self._rec("send_summary", conversation_id, summary)
        return self._add_outgoing(conversation_id, MessageKind.SUMMARY, "", summary)

    async def send_referral(self, conversation_id: str, language: str) -> str:
        self._rec("send_referral", conversation_id, language)
        text = (
            "If you are in danger, please call 112 now, or 119 ext. 8 to talk to someone."
            if language == "en"
            else "Jika Anda dalam bahaya, segera hubungi 112, atau 119 ext. 8 untuk berbicara dengan seseorang."
        )
        return self._add_outgoing(conversation_id, MessageKind.REFERRAL, text)

    async def set_task_done(self, message_id: str, index: int, done: bool) -> None:
        self._rec("set_task_done", message_id, index, done)
        with self._lock:
            for msgs in self.msgs.values():
                for i, m in enumerate(msgs):
                    if m.message_id == message_id:
                        ticks = list(m.tasks_done)
                        ticks[index] = done
                        msgs[i] = dataclasses.replace(m, tasks_done=tuple(ticks))

    async def message_count(self, conversation_id: str) -> int:
        with self._lock:
            return len(self.msgs.get(conversation_id, ()))

    async def history(self, conversation_id: str, offset: int, limit: int) -> Sequence[MessageView]:
        with self._lock:
            msgs = self.msgs.get(conversation_id, [])
            conv = self.convs.get(conversation_id)
            if conv is not None and offset + limit >= len(msgs):  # as the core: newest read
                self.convs[conversation_id] = dataclasses.replace(conv, unread=0)
            return tuple(msgs[offset : offset + limit])

    async def safety_number(self, conversation_id: str) -> SafetyNumberView:
        self._rec("safety_number", conversation_id)
        digits = "".join(str((i * 7 + 3) % 10) for i in range(60))
        return SafetyNumberView(
            digits, b"\x00\x01" + digits.encode(), conversation_id in self.verified
        )

    async def mark_verified(self, conversation_id: str) -> None:
        self._rec("mark_verified", conversation_id)
        self.verified.add(conversation_id)

    async def confirm_key_change(self, conversation_id: str) -> None:
        self._rec("confirm_key_change", conversation_id)
        with self._lock:
            self.convs[conversation_id] = dataclasses.replace(
                self.convs[conversation_id], blocked_by_key_change=False
            )

    # --- notes ---------------------------------------------------------------------

    async def notes(self, conversation_id: str) -> Sequence[NoteView]:
        return tuple(n for n in self.notes_by_id.values() if n.conversation_id == conversation_id)

    async def save_note(
        self,
        conversation_id: str,
        note_id: str | None,
        template: str,
        sections: Sequence[tuple[str, str]],
        session_label: str = "",
    ) -> NoteView:
        self._rec("save_note", conversation_id, note_id, template, tuple(sections))
        nid = note_id or f"n{next(self._ids)}"
        old = self.notes_by_id.get(nid)
        # as the core: the sections must be the (first saved) template's own, by their keys
        normalise_sections(get_template(old.template if old else template), dict(sections))
        view = NoteView(
            nid,
            conversation_id,
            session_label,
            template,
            tuple(sections),
            time.time(),
            (old.revision + 1) if old else 1,
        )
        self.notes_by_id[nid] = view
        return view

    async def search_notes(self, query: str) -> Sequence[NoteView]:
        self._rec("search_notes", query)
        q = query.lower()
        return tuple(
            n
            for n in self.notes_by_id.values()
            if any(q in text.lower() for _, text in n.sections) or q in n.session_label.lower()
        )

    # --- settings ------------------------------------------------------------------

    async def settings(self) -> SettingsView:
        return self.settings_view

    async def update_settings(self, settings: SettingsView) -> SettingsView:
        self._rec("update_settings", settings)
        self.settings_view = settings
        return settings

    async def messages_older_than(self, days: int) -> int:
        if days <= 0:
            return 0
        cutoff = time.time() - days * 86_400
        with self._lock:
            return sum(m.sent_at < cutoff for msgs in self.msgs.values() for m in msgs)

    async def sync(self) -> None:
        self._rec("sync")

    async def events(self) -> AsyncIterator[Event]:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        for event in self._pending:
            self._queue.put_nowait(event)
        self._pending.clear()
        while True:
            yield await self._queue.get()
