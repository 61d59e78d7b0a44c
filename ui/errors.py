"""Every message a user sees for an error, in one place, in English and (via Qt) Indonesian.

Job: map an exception raised by the core (`securechat.errors.*`) to a
fixed, calm message. Mapping is by class name, walking the exception's class hierarchy, so a
subclass of a known error gets its parent's message, and anything unknown gets a generic one.

Invariants:
- A message never includes the exception's own text: that may echo untrusted input or secrets.
- Every source string is marked with `QT_TRANSLATE_NOOP("errors", ...)` so `pyside6-lupdate`
  extracts it into `ui/i18n/securechat_id.ts`; `message_for` translates at call time, so a
  language switch takes effect on the next message shown.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from ui.common.tr import QT_TRANSLATE_NOOP

__all__ = ["GENERIC", "MESSAGES", "message_for"]

_CONTEXT = "errors"

GENERIC: str = QT_TRANSLATE_NOOP("errors", "Something went wrong. Please try again in a moment.")

#: exception class name -> English source text of the message
MESSAGES: dict[str, str] = {
    # profiles
    "ProfileError": QT_TRANSLATE_NOOP("errors", "This profile cannot be opened right now."),
    "WrongPassphrase": QT_TRANSLATE_NOOP(
        "errors", "That passphrase is not right. Please check it and try again."
    ),
    "InvalidProfileName": QT_TRANSLATE_NOOP(
        "errors", "This name cannot be used for a profile. Please choose another one."
    ),
    "ProfileExists": QT_TRANSLATE_NOOP("errors", "A profile with this name already exists."),
    "ProfileNotFound": QT_TRANSLATE_NOOP("errors", "This profile could not be found."),
    "CorruptProfile": QT_TRANSLATE_NOOP(
        "errors",
        "This profile's files are damaged and cannot be opened. Please restore them from a backup.",
    ),
    "ProfileLocked": QT_TRANSLATE_NOOP("errors", "Your profile is locked. Please unlock it first."),
    "NotRemembered": QT_TRANSLATE_NOOP(
        "errors", "This profile is not remembered on this device. Please enter your passphrase."
    ),
    "UnsupportedSchema": QT_TRANSLATE_NOOP(
        "errors",
        "This profile was saved by a newer version of SecureChat. Please update the app to open it.",
    ),
    "KeyringUnavailable": QT_TRANSLATE_NOOP(
        "errors",
        "This device has no safe place to remember your key. Please enter your passphrase each time.",
    ),
    # input and records
    "InvalidInput": QT_TRANSLATE_NOOP(
        "errors", "Please check what you entered: something is missing, too long or out of range."
    ),
    "InvalidInvite": QT_TRANSLATE_NOOP(
        "errors", "This invite link is not valid. Please ask your counselor for a new one."
    ),
    "SearchTooLong": QT_TRANSLATE_NOOP(
        "errors", "This search is too long. Please search for at most 32 words."
    ),
    "NotFound": QT_TRANSLATE_NOOP("errors", "That item no longer exists."),
    "ExportError": QT_TRANSLATE_NOOP(
        "errors", "The export could not be written. Please check the folder and the free space."
    ),
    "ExportUnreadable": QT_TRANSLATE_NOOP(
        "errors", "This export cannot be opened: the passphrase is wrong or the file is damaged."
    ),
    "PlaintextExportRefused": QT_TRANSLATE_NOOP(
        "errors",
        "A plain-text export leaves notes unencrypted on disk, so it needs your explicit choice.",
    ),
    "StorageError": QT_TRANSLATE_NOOP(
        "errors", "Your data could not be saved on this device. Please check the free space."
    ),
    "ProfileInUse": QT_TRANSLATE_NOOP(
        "errors",
        "This profile is in use by another SecureChat window or command. "
        "Please close it and try again.",
    ),
    "ProfileReadOnly": QT_TRANSLATE_NOOP(
        "errors",
        "SecureChat cannot save to this profile's folder because it is read-only. "
        "Please check the folder's permissions.",
    ),
    # conversations
    "ConversationError": QT_TRANSLATE_NOOP(
        "errors", "This conversation cannot be used for that right now."
    ),
    "ConsentRequired": QT_TRANSLATE_NOOP(
        "errors", "Please read and accept the disclosure before sending a message."
    ),
    "ConversationClosed": QT_TRANSLATE_NOOP("errors", "This conversation has ended."),
    "IdentityKeyChanged": QT_TRANSLATE_NOOP(
        "errors",
        "The other person's safety number changed. Please confirm it before sending.",
    ),
    "InvalidPublication": QT_TRANSLATE_NOOP(
        "errors",
        "This counselor's profile could not be checked, so it was not opened. Please ask for a new invite.",
    ),
    "DecryptionError": QT_TRANSLATE_NOOP("errors", "A message could not be opened."),
    # the relay and the network
    "RelayUnavailable": QT_TRANSLATE_NOOP(
        "errors",
        "The server cannot be reached right now. Please check your connection and try again.",
    ),
    "RelayError": QT_TRANSLATE_NOOP(
        "errors", "The server refused the request. Please try again later."
    ),
    "QuotaExceeded": QT_TRANSLATE_NOOP(
        "errors", "The other person's mailbox is full for now. Please try again later."
    ),
    "TimeoutError": QT_TRANSLATE_NOOP(
        "errors", "This is taking too long. Please check your connection and try again."
    ),
    "ConnectionError": QT_TRANSLATE_NOOP(
        "errors", "The server cannot be reached right now. Please check your connection."
    ),
}


def message_for(error: BaseException | type[BaseException]) -> str:
    """Return the translated user-facing message for an error (never its own text)."""
    cls = error if isinstance(error, type) else type(error)
    for klass in cls.__mro__:
        source = MESSAGES.get(klass.__name__)
        if source is not None:
            return QCoreApplication.translate(_CONTEXT, source)
    return QCoreApplication.translate(_CONTEXT, GENERIC)
