"""A typed `QT_TRANSLATE_NOOP`: marks a string for `pyside6-lupdate` and returns it unchanged.

PySide6's own stub types its result as `object`; this one keeps `str`. `lupdate` recognises
the call by name, so the context and text are still extracted.
"""

from __future__ import annotations

__all__ = ["QT_TRANSLATE_NOOP"]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Return `text`; `context` is for the translation extractor only."""
    del context
    return text
