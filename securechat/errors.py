"""The exception tree of `securechat` (the client core).

    SecureChatError                 base of everything this package raises on purpose
    ├── ProfileError                something about a profile as a whole
    │   ├── InvalidProfileName      the name is not 1-64 letters, digits, '-' or '_'
    │   ├── ProfileExists           a profile of that name already exists
    │   ├── ProfileNotFound         no profile of that name
    │   ├── WrongPassphrase         the passphrase (or remembered key) does not open the profile
    │   ├── CorruptProfile          the database or its key file is damaged or unreadable
    │   ├── ProfileLocked           the profile was locked; unlock it again
    │   ├── NotRemembered           no key for this profile is remembered on this device
    │   └── UnsupportedSchema       the database was written by a newer securechat
    ├── KeyringUnavailable          no usable system keyring for "remember on this device"
    ├── InvalidInput                a value given by the user is out of range or malformed
    │   ├── InvalidInvite           an invite link or relay address that cannot be used
    │   └── SearchTooLong           a notes search of more words or characters than allowed
    ├── NotFound                    a record (note, revision, disclosure) does not exist
    ├── RelayUnavailable            the relay cannot be reached (or the connection dropped) in time
    ├── ExportError                 exports of counselor records
    │   ├── ExportUnreadable        an encrypted export: wrong passphrase or damaged file
    │   └── PlaintextExportRefused  a plain-text export was not explicitly requested
    ├── StorageError                the encrypted database refused an operation
    │   ├── ProfileInUse            another window or command holds the database's lock
    │   └── ProfileReadOnly         the profile's folder or database cannot be written
    └── ConversationError           something about one conversation
        ├── ConsentRequired         no consent on record for the current disclosure version
        ├── ConversationClosed      consent was withdrawn or the conversation ended
        ├── IdentityKeyChanged      the peer's identity key changed: confirm it before sending
        └── InvalidPublication      a counselor's publication fails its signature or key check

Every message is a fixed sentence, safe to show to a person and to log: never a passphrase,
key, note text, message text or path fragment chosen by an attacker. The UI maps the classes
to translated text in one place; the CLI prints `str(exc)`.
"""

from __future__ import annotations

__all__ = [
    "ConsentRequired",
    "ConversationClosed",
    "ConversationError",
    "CorruptProfile",
    "ExportError",
    "ExportUnreadable",
    "IdentityKeyChanged",
    "InvalidInput",
    "InvalidInvite",
    "InvalidProfileName",
    "InvalidPublication",
    "KeyringUnavailable",
    "NotFound",
    "NotRemembered",
    "PlaintextExportRefused",
    "ProfileError",
    "ProfileExists",
    "ProfileInUse",
    "ProfileLocked",
    "ProfileNotFound",
    "ProfileReadOnly",
    "RelayUnavailable",
    "SearchTooLong",
    "SecureChatError",
    "StorageError",
    "UnsupportedSchema",
    "WrongPassphrase",
]


class SecureChatError(Exception):
    """Base class of every error the client core raises on purpose."""

    default_message = "Something went wrong in securechat."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class ProfileError(SecureChatError):
    """A profile cannot be created, found or opened."""

    default_message = "The profile cannot be used."


class InvalidProfileName(ProfileError):
    """A profile name must be 1-64 characters: letters, digits, '-' or '_'."""

    default_message = (
        "A profile name must be 1 to 64 characters long and use only letters, digits, '-' or '_'."
    )


class ProfileExists(ProfileError):
    """A profile with this name already exists."""

    default_message = "A profile with this name already exists. Choose another name."


class ProfileNotFound(ProfileError):
    """No profile with this name exists."""

    default_message = "There is no profile with this name."


class WrongPassphrase(ProfileError):
    """The passphrase, or the key remembered on this device, does not open the profile."""

    default_message = "The passphrase is not correct. Nothing was changed; please try again."


class CorruptProfile(ProfileError):
    """The profile's database or key-parameter file is damaged."""

    default_message = (
        "The profile's files are damaged and cannot be opened. Restore them from a backup."
    )


class ProfileLocked(ProfileError):
    """The profile has been locked; its key is gone from memory."""

    default_message = "The profile is locked. Unlock it with your passphrase."


class NotRemembered(ProfileError):
    """No key for this profile is remembered on this device."""

    default_message = "This profile is not remembered on this device. Enter your passphrase."


class UnsupportedSchema(ProfileError):
    """The database was written by a newer version of securechat."""

    default_message = (
        "This profile was saved by a newer version of securechat. Update the app to open it."
    )


class KeyringUnavailable(SecureChatError):
    """There is no usable system keyring, so the key cannot be remembered on this device."""

    default_message = (
        "This device has no usable keyring, so securechat cannot remember your profile. "
        "You will be asked for your passphrase each time. To use this feature, install or "
        "unlock a keyring service (for example GNOME Keyring or KWallet)."
    )


class InvalidInput(SecureChatError):
    """A value given by the user is malformed or out of range."""

    default_message = "The value given is not valid."


class InvalidInvite(InvalidInput):
    """An invite link or relay address is damaged, of an unknown version, or unsafe to use."""

    default_message = "This invite link cannot be used."


class SearchTooLong(InvalidInput):
    """A notes search has more words or characters than a search may have: refused, since
    leaving some words out would widen the search (its words must all match)."""

    default_message = "The search is too long. Use fewer words."


class NotFound(SecureChatError):
    """The record asked for does not exist."""

    default_message = "The record was not found."


class RelayUnavailable(SecureChatError):
    """The relay could not be reached, or the connection dropped, before the deadline."""

    default_message = (
        "The relay cannot be reached right now. Your messages are kept and will be sent "
        "when the connection is back."
    )


class ExportError(SecureChatError):
    """An export of counselor records failed."""

    default_message = "The export failed."


class ExportUnreadable(ExportError):
    """An encrypted export could not be opened: wrong passphrase or a damaged file."""

    default_message = "The export cannot be opened: the passphrase is wrong or the file is damaged."


class PlaintextExportRefused(ExportError):
    """A plain-text export needs an explicit request, because it leaves notes unencrypted."""

    default_message = (
        "A plain-text export leaves your notes unencrypted on disk. "
        "Ask for it explicitly if you really need it."
    )


class StorageError(SecureChatError):
    """The encrypted database refused an operation (disk full, locked, read-only)."""

    default_message = "The encrypted database could not complete the operation."


class ProfileInUse(StorageError):
    """Another SecureChat window or command holds the database's lock (SQLITE_BUSY/LOCKED)."""

    default_message = (
        "The profile is in use by another SecureChat window or command. Close it and try again."
    )


class ProfileReadOnly(StorageError):
    """The profile's database or folder cannot be written (SQLITE_READONLY)."""

    default_message = "SecureChat cannot write to the profile folder (it is read-only)."


class ConversationError(SecureChatError):
    """Something about one conversation prevents the operation."""

    default_message = "This conversation cannot be used for that right now."


class ConsentRequired(ConversationError):
    """No consent is on record for the counselor's current disclosure: nothing was sent."""

    default_message = (
        "Consent to the counselor's current disclosure is needed before messages can be sent. "
        "Nothing was sent."
    )


class ConversationClosed(ConversationError):
    """Consent was withdrawn or the conversation ended: nothing more can be sent."""

    default_message = "This conversation has ended (consent was withdrawn). Nothing was sent."


class IdentityKeyChanged(ConversationError):
    """The peer's identity key changed; sending waits until the person confirms the change."""

    default_message = (
        "The other person's security key has changed. Compare the safety number and confirm "
        "the change before sending. Nothing was sent."
    )


class InvalidPublication(ConversationError):
    """The counselor's publication is not signed by the key in the invite, or is damaged."""

    default_message = (
        "The counselor's published profile could not be verified. It may have been tampered "
        "with. Nothing was sent; ask the counselor for a new invite."
    )
