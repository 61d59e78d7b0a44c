"""A passphrase strength hint: a rough, honest estimate, not a promise.

Job: score a passphrase 0..3 from its length and variety, and give the hint's English source
text (translated by the caller, context "strength"). Pure; no Qt widgets.
"""

from __future__ import annotations

from securechat.api import MIN_PASSPHRASE_LENGTH
from ui.common.tr import QT_TRANSLATE_NOOP

__all__ = ["HINTS", "MIN_LENGTH", "score"]

MIN_LENGTH = MIN_PASSPHRASE_LENGTH  # the core's rule (it refuses shorter new passphrases)

HINTS: tuple[str, ...] = (
    QT_TRANSLATE_NOOP("strength", "Too short: use at least 10 characters."),
    QT_TRANSLATE_NOOP("strength", "Weak: add more words."),
    QT_TRANSLATE_NOOP("strength", "Fair: a few more words would make it strong."),
    QT_TRANSLATE_NOOP("strength", "Strong."),
)


def score(passphrase: str) -> int:
    """0 too short, 1 weak, 2 fair, 3 strong."""
    if len(passphrase) < MIN_LENGTH:
        return 0
    variety = sum(
        (
            any(c.islower() for c in passphrase),
            any(c.isupper() for c in passphrase),
            any(c.isdigit() for c in passphrase),
            any(not c.isalnum() for c in passphrase),
        )
    )
    words = len(passphrase.split())
    points = (len(passphrase) >= 14) + (len(passphrase) >= 20) + (variety >= 3) + (words >= 4)
    if points >= 2:
        return 3
    if points == 1:
        return 2
    return 1
