"""The counselor's public profile and versioned disclosure (English and Bahasa Indonesia).

A disclosure is the pair of texts a client reads before consenting. Versions are numbered 1,
2, ...; each is identified by `content_hash` = SHA-256 over a canonical encoding: compact,
key-sorted UTF-8 JSON of `{"format": 1, "texts": {"en": ..., "id": ...}}`. Saving texts
identical to the current version returns that version instead of adding one, so a client's
consent (which records version and hash) stays valid until the words change.

A version is a draft until it is shared (`mark_shared`: it went out in a publication, so a
client may read it and consent to it). Saving new texts over a draft replaces the draft under
the same number; saving over a shared version adds the next number, and the shared one never
changes again. So a new counselor who fills in the profile before publishing starts at
version 1, and every version a client could have seen keeps its number and its hash. A later
version may repeat an earlier one's texts (an edit undone): it gets its own number.

The profile (name, credentials, specializations, languages, hours, time zone, response time,
how long records are kept) is stored as one JSON document. The default disclosure is rendered
from it (`securechat.disclosure_text`); the counselor can replace either language's text.

Signing both documents for publication is the crypto layer's job; this module only stores
them and gives the bytes a stable hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from securechat.disclosure_text import render_default_texts
from securechat.errors import CorruptProfile, InvalidInput, NotFound
from securechat.store import Store, now_ms

__all__ = [
    "LANGUAGES",
    "CounselorProfile",
    "Disclosure",
    "DisclosureBook",
    "canonical_texts",
    "content_hash",
]

LANGUAGES: tuple[str, ...] = ("en", "id")
_MAX_TEXT = 50_000
_MAX_FIELD = 500


@dataclass(frozen=True)
class CounselorProfile:
    """What a counselor publishes about themselves."""

    name: str
    credentials: str = ""
    specializations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("Bahasa Indonesia", "English")
    service_hours: str = "Monday-Friday / Senin-Jumat 09.00-17.00"
    time_zone: str = "Asia/Jakarta (WIB, UTC+7)"
    response_time_hours: int = 24
    records_retention_years: int = 5

    def __post_init__(self) -> None:
        texts = [self.name, self.credentials, self.service_hours, self.time_zone]
        texts += list(self.specializations) + list(self.languages)
        if not self.name.strip() or any(len(t) > _MAX_FIELD for t in texts):
            raise InvalidInput("Profile fields must be non-empty and at most 500 characters.")
        if not 1 <= self.response_time_hours <= 24 * 14:
            raise InvalidInput("The response time must be between 1 hour and 14 days.")
        if not 1 <= self.records_retention_years <= 50:
            raise InvalidInput("Records retention must be between 1 and 50 years.")

    def to_json(self) -> str:
        """Stable JSON form."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CounselorProfile:
        """Parse `to_json` output.

        Raises:
            InvalidInput: malformed or out of range.
        """
        try:
            data: Any = json.loads(text)
            return cls(
                name=str(data["name"]),
                credentials=str(data["credentials"]),
                specializations=tuple(str(s) for s in data["specializations"]),
                languages=tuple(str(s) for s in data["languages"]),
                service_hours=str(data["service_hours"]),
                time_zone=str(data["time_zone"]),
                response_time_hours=int(data["response_time_hours"]),
                records_retention_years=int(data["records_retention_years"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("The counselor profile is malformed.") from exc


@dataclass(frozen=True)
class Disclosure:
    """One version of the disclosure."""

    version: int
    texts: Mapping[str, str] = field(repr=False)
    content_hash: bytes
    created_at: int
    shared_at: int | None = None  # when it first went out in a publication; None: a draft


def canonical_texts(texts: Mapping[str, str]) -> bytes:
    """The canonical encoding the content hash covers."""
    return json.dumps(
        {"format": 1, "texts": {lang: texts[lang] for lang in LANGUAGES}},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def content_hash(texts: Mapping[str, str]) -> bytes:
    """SHA-256 of `canonical_texts`."""
    return hashlib.sha256(canonical_texts(texts)).digest()


def _validate(texts: Mapping[str, str]) -> dict[str, str]:
    if set(texts) != set(LANGUAGES):
        raise InvalidInput("A disclosure needs exactly an English and an Indonesian text.")
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        text = texts[lang]
        if not isinstance(text, str) or not text.strip() or len(text) > _MAX_TEXT:
            raise InvalidInput("Each disclosure text must be 1 to 50,000 characters.")
        out[lang] = text.replace("\r\n", "\n")
    return out


class DisclosureBook:
    """The counselor profile and disclosure versions in one profile's store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get_profile(self) -> CounselorProfile | None:
        """The stored counselor profile, or None."""
        row = self._store.conn.execute(
            "SELECT document FROM counselor_profile WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        try:
            return CounselorProfile.from_json(str(row[0]))
        except InvalidInput as exc:
            raise CorruptProfile() from exc

    def set_profile(self, profile: CounselorProfile) -> None:
        """Store (replace) the counselor profile."""
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO counselor_profile(id, document, updated_at) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET document = excluded.document, "
                "updated_at = excluded.updated_at",
                (profile.to_json(), now_ms()),
            )

    def current(self) -> Disclosure | None:
        """The newest disclosure version, or None."""
        row = self._store.conn.execute(
            "SELECT version FROM disclosures ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return None if row is None else self.get(int(row[0]))

    def get(self, version: int) -> Disclosure:
        """A specific version.

        Raises:
            NotFound: no such version.
        """
        row = self._store.conn.execute(
            "SELECT version, document, content_hash, created_at, shared_at FROM disclosures "
            "WHERE version = ?",
            (int(version),),
        ).fetchone()
        if row is None:
            raise NotFound("There is no disclosure with this version.")
        texts: Any = json.loads(str(row[1]))["texts"]
        shared = None if row[4] is None else int(row[4])
        return Disclosure(int(row[0]), dict(texts), bytes(row[2]), int(row[3]), shared)

    def history(self) -> list[Disclosure]:
        """Every version, oldest first."""
        rows = self._store.conn.execute(
            "SELECT version FROM disclosures ORDER BY version"
        ).fetchall()
        return [self.get(int(r[0])) for r in rows]

    def save(self, texts: Mapping[str, str]) -> Disclosure:
        """Store `texts` as the current version: unchanged if they equal it, in its place if
        it is a draft, else as the next version.

        Raises:
            InvalidInput: a language is missing or a text is empty or too long.
        """
        clean = _validate(texts)
        digest = content_hash(clean)
        document = canonical_texts(clean).decode("utf-8")
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT version, content_hash, shared_at FROM disclosures "
                "ORDER BY version DESC LIMIT 1"
            ).fetchone()
            if row is not None and bytes(row[1]) == digest:
                version = int(row[0])
            elif row is not None and row[2] is None:  # a draft nobody was shown
                version = int(row[0])
                conn.execute(
                    "UPDATE disclosures SET content_hash = ?, document = ?, created_at = ? "
                    "WHERE version = ?",
                    (digest, document, now_ms(), version),
                )
            else:
                version = 1 if row is None else int(row[0]) + 1
                conn.execute(
                    "INSERT INTO disclosures(version, content_hash, document, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (version, digest, document, now_ms()),
                )
        return self.get(version)

    def mark_shared(self, version: int) -> None:
        """Fix `version` for good: it goes out in a publication (the next save adds a new
        version instead of replacing it). Idempotent.

        Raises:
            NotFound: no such version.
        """
        with self._store.transaction() as conn:
            cur = conn.execute(
                "UPDATE disclosures SET shared_at = coalesce(shared_at, ?) WHERE version = ?",
                (now_ms(), int(version)),
            )
            if cur.rowcount == 0:
                raise NotFound("There is no disclosure with this version.")

    def edit(self, language: str, text: str) -> Disclosure:
        """Replace one language's text, keeping the other; a new version if anything changed.

        Raises:
            InvalidInput: unknown language, or bad text.
            NotFound: there is no disclosure yet and no profile to render a default from.
        """
        if language not in LANGUAGES:
            raise InvalidInput("The language must be 'en' or 'id'.")
        base = self.ensure_default()
        texts = dict(base.texts)
        texts[language] = text
        return self.save(texts)

    def ensure_default(self) -> Disclosure:
        """The current disclosure, creating version 1 from the profile's default if none.

        Raises:
            NotFound: no disclosure and no counselor profile yet.
        """
        current = self.current()
        if current is not None:
            return current
        profile = self.get_profile()
        if profile is None:
            raise NotFound("Set up the counselor profile first.")
        return self.save(render_default_texts(profile))

    def regenerate_default(self) -> Disclosure:
        """Re-render the default text from the current profile (a new version if it changed).

        Raises:
            NotFound: no counselor profile yet.
        """
        profile = self.get_profile()
        if profile is None:
            raise NotFound("Set up the counselor profile first.")
        return self.save(render_default_texts(profile))
