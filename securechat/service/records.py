"""Counselor notes (never leave the device) and settings."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from securechat import api, keystore, profiles
from securechat.disclosure import LANGUAGES
from securechat.errors import (
    InvalidInput,
    KeyringUnavailable,
    NotFound,
)
from securechat.invite import check_relay_url
from securechat.notes import NoteBook
from securechat.retention import (
    RETENTION_SETTING,
    count_expiring,
    get_retention_days,
    purge_expired,
    retention_value,
)
from securechat.service.base import (
    _SETTINGS,
    ServiceBase,
    _conv_id,
    _guarded,
)

__all__ = ["Records"]

# A profile left open on a shared or stolen laptop locks itself unless the user says otherwise
# ("0" stored means never).
DEFAULT_AUTO_LOCK_MINUTES = 10


class Records(ServiceBase):
    """Counselor notes (never leave the device) and settings."""

    def _contact_of(self, conversation_id: str) -> int:
        store = self._profile_or_raise().store
        row = store.conn.execute(
            "SELECT contact_id FROM conversations WHERE id = ?", (_conv_id(conversation_id),)
        ).fetchone()
        if row is None:
            raise NotFound("There is no such conversation.")
        return int(row[0])

    def _note_view(self, conversation_id: str, note: Any) -> api.NoteView:
        from securechat.notes import get_template

        order = get_template(note.template).sections
        return api.NoteView(
            note_id=str(note.id),
            conversation_id=conversation_id,
            session_label=note.session_id,
            template=note.template,
            sections=tuple((name, str(note.sections.get(name, ""))) for name in order),
            updated_at=note.updated_at / 1000.0,
            revision=note.revision,
        )

    @_guarded
    async def notes(self, conversation_id: str) -> Sequence[api.NoteView]:
        book = NoteBook(self._counselor_or_raise("keeps session notes").store)
        contact = self._contact_of(conversation_id)
        return [
            self._note_view(conversation_id, book.open(n.id))
            for n in book.list_notes(contact_id=contact)
        ]

    @_guarded
    async def save_note(
        self,
        conversation_id: str,
        note_id: str | None,
        template: str,
        sections: Sequence[tuple[str, str]],
        session_label: str = "",
    ) -> api.NoteView:
        book = NoteBook(self._counselor_or_raise("keeps session notes").store)
        contact = self._contact_of(conversation_id)
        if note_id is None:
            note = book.add(contact, session_label or "1", template, dict(sections))
        else:
            try:
                nid = int(note_id)
            except ValueError as exc:
                raise NotFound() from exc
            note = book.edit(nid, dict(sections))
        return self._note_view(conversation_id, note)

    @_guarded
    async def search_notes(self, query: str) -> Sequence[api.NoteView]:
        store = self._counselor_or_raise("keeps session notes").store
        book = NoteBook(store)
        out = []
        for hit in book.search(query):
            row = store.conn.execute(
                "SELECT id FROM conversations WHERE contact_id = ? ORDER BY id DESC LIMIT 1",
                (hit.contact_id,),
            ).fetchone()
            conv = "" if row is None else str(row[0])
            out.append(self._note_view(conv, book.open(hit.note_id)))
        return out

    @_guarded
    async def settings(self) -> api.SettingsView:
        profile = self._profile_or_raise()
        store = profile.store
        remembered = keystore.is_marked(profile.directory)
        info = self._engine_or_raise().intake()
        return api.SettingsView(
            relay_url=store.get_setting(_SETTINGS["relay_url"]) or (info.relay_url if info else ""),
            language=store.get_setting(_SETTINGS["language"]) or "id",
            auto_lock_minutes=int(
                store.get_setting(_SETTINGS["auto_lock_minutes"]) or DEFAULT_AUTO_LOCK_MINUTES
            ),
            retention_days=get_retention_days(store) or 0,
            remember_on_device=remembered,
            region=store.get_setting(_SETTINGS["region"]) or "ID",
        )

    @_guarded
    async def update_settings(self, settings: api.SettingsView) -> api.SettingsView:
        profile = self._profile_or_raise()
        store = profile.store
        if settings.relay_url:
            check_relay_url(settings.relay_url)
        if settings.language not in LANGUAGES:
            raise InvalidInput("The language must be 'en' or 'id'.")
        if not 0 <= settings.auto_lock_minutes <= 24 * 60:
            raise InvalidInput("Auto-lock must be between 0 and 1440 minutes.")
        if not re.fullmatch(r"[A-Z]{2}", settings.region):
            raise InvalidInput("The region must be a two-letter country code.")
        retention = retention_value(settings.retention_days or None)
        # The keyring first: if it refuses, nothing has changed (a retention period saved
        # behind an error would delete history at the next unlock).
        if settings.remember_on_device:
            profiles.remember_on_device(profile)
        else:
            with contextlib.suppress(KeyringUnavailable):
                profiles.forget_on_device(profile.name, home=self._home)
        store.set_settings(
            {
                RETENTION_SETTING: retention,
                _SETTINGS["relay_url"]: settings.relay_url or None,
                _SETTINGS["language"]: settings.language,
                _SETTINGS["auto_lock_minutes"]: str(settings.auto_lock_minutes),
                _SETTINGS["region"]: settings.region,
            }
        )
        self._engine_or_raise().region = settings.region
        purge_expired(store)
        return await self.settings()

    @_guarded
    async def messages_older_than(self, days: int) -> int:
        return count_expiring(self._profile_or_raise().store, days or None)
