"""The counselor's disclosure editor: write what clients read before they consent.

Job: load the counselor's `disclosures()`, edit one language at a time (starting from a
template when empty), and save with `edit_disclosure(language, text)`. Before the first
publication the text is a draft and saving replaces it; once published, saving makes a new
version and clients with an older one are asked to consent again.

Signal: `disclosure_saved(language: str, version: int)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from securechat.api import DisclosureView
from ui.bridge import Bridge
from ui.common.forms import label, name_buttons, primary_button
from ui.consent.templates import DISCLOSURE_TEMPLATES
from ui.errors import message_for

__all__ = ["DisclosureEditor"]


class DisclosureEditor(QDialog):
    disclosure_saved = Signal(str, int)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("disclosureEditor")
        self._bridge = bridge
        self._saved: dict[str, DisclosureView] = {}
        self.setWindowTitle(self.tr("My disclosure"))
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        intro = label("muted")
        intro.setText(
            self.tr(
                "Clients read this before they agree to start. Once it is published, every saved "
                "change is a new version, and clients are asked to agree again."
            )
        )
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.language = QComboBox()
        self.language.setObjectName("disclosureEditorLanguage")
        self.language.addItem("Bahasa Indonesia", "id")
        self.language.addItem("English", "en")
        self.template_button = QPushButton(self.tr("Start from the template"))
        self.template_button.setObjectName("disclosureTemplateButton")
        self.version = label("muted", "disclosureEditorVersion", wrap=False)
        row.addWidget(self.language)
        row.addWidget(self.template_button)
        row.addStretch(1)
        row.addWidget(self.version)
        layout.addLayout(row)
        self.text = QPlainTextEdit()
        self.text.setObjectName("disclosureEditorText")
        self.text.setAccessibleName(self.tr("Disclosure"))
        layout.addWidget(self.text, 1)
        self.error = label("error")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        name_buttons(buttons)
        self.save_button = primary_button("saveDisclosureButton")
        self.save_button.setText(self.tr("Save"))
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.language.currentIndexChanged.connect(self.on_language_chosen)
        self.template_button.clicked.connect(self.on_template_clicked)
        self.save_button.clicked.connect(self.on_save_clicked)
        bridge.call(lambda s: s.disclosures(), self.on_loaded, self.on_failed, owner=self)

    def code(self) -> str:
        value = self.language.currentData()
        return value if isinstance(value, str) else "id"

    def on_loaded(self, views: Sequence[DisclosureView]) -> None:
        self._saved = {v.language: v for v in views}
        self.on_language_chosen()

    def on_language_chosen(self) -> None:
        view = self._saved.get(self.code())
        self.text.setPlainText(view.text if view else DISCLOSURE_TEMPLATES.get(self.code(), ""))
        self._show_version(view)

    def _show_version(self, view: DisclosureView | None) -> None:
        if view is None:
            text = self.tr("Not published yet")
        elif view.draft:
            text = self.tr("Version %1 · draft, not published yet")
        else:
            text = self.tr("Version %1")
        self.version.setText(text.replace("%1", str(view.version)) if view else text)

    def on_template_clicked(self) -> None:
        self.text.setPlainText(DISCLOSURE_TEMPLATES.get(self.code(), ""))

    def on_save_clicked(self) -> None:
        language, text = self.code(), self.text.toPlainText().strip()
        if not text:
            return
        self.error.hide()
        self._bridge.call(
            lambda s: s.edit_disclosure(language, text), self.on_saved, self.on_failed, owner=self
        )

    def on_saved(self, view: DisclosureView) -> None:
        self._saved[view.language] = view
        self._show_version(view)
        self.disclosure_saved.emit(view.language, view.version)

    def on_failed(self, error: BaseException) -> None:
        self.error.setText(message_for(error))
        self.error.show()
