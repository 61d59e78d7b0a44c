"""Run-time language switching through Qt's translation system.

Job: install (or remove) the compiled Indonesian catalogue `securechat_id.qm` and Qt's own
catalogue for standard dialog buttons. English is the source language and needs no catalogue.
Installing a translator makes Qt send `QEvent.LanguageChange` to every widget; each screen
answers with `retranslate_ui()`.

Invariants: `.ts` sources live beside this module and are the translators' files; the `.qm`
files are compiled with `pyside6-lrelease` and committed (a test checks they are up to date).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

__all__ = ["I18N_DIR", "LANGUAGES", "Translations", "language_name"]

I18N_DIR = Path(__file__).resolve().parent
LANGUAGES: tuple[str, ...] = ("en", "id")


def language_name(code: str) -> str:
    """A language's own name ("Bahasa Indonesia", "English"), the same in every UI language."""
    return {"id": "Bahasa Indonesia", "en": "English"}.get(code, code)


class Translations:
    """Holds the installed translators for one application."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._installed: list[QTranslator] = []
        self.language = "en"

    def set_language(self, language: str) -> bool:
        """Switch to `language` ("en" or "id"); return False if its catalogue is missing."""
        if language not in LANGUAGES:
            language = "en"
        if language == self.language and (language == "en" or self._installed):
            return True
        for translator in self._installed:
            self._app.removeTranslator(translator)
        self._installed = []
        ok = True
        if language != "en":
            ours = QTranslator(self._app)
            ok = ours.load(str(I18N_DIR / f"securechat_{language}.qm"))
            if ok:
                self._app.installTranslator(ours)
                self._installed.append(ours)
            qt = QTranslator(self._app)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if qt.load(QLocale(language), "qtbase", "_", qt_dir):
                self._app.installTranslator(qt)
                self._installed.append(qt)
        self.language = language if ok else "en"
        # dates and numbers follow the chosen language (month names, digits grouping)
        QLocale.setDefault(
            QLocale(
                QLocale.Language.Indonesian if self.language == "id" else QLocale.Language.English
            )
        )
        if not self._installed:
            # removing translators already sent LanguageChange when there were any; make sure
            # screens refresh on a switch back to English as well
            from PySide6.QtCore import QCoreApplication, QEvent

            for widget in self._app.allWidgets():
                QCoreApplication.sendEvent(widget, QEvent(QEvent.Type.LanguageChange))
        return ok
