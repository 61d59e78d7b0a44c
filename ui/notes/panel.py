"""Counselor notes beside the chat: templates as sections, autosave, search.

Job: show the notes of the open conversation, edit one at a time in the sections of its
template (SOAP: Subjective, Objective, Assessment, Plan; DAP: Data, Assessment, Plan; free),
save it through the bridge and search all notes. Section keys are the core's
(`securechat.notes.TEMPLATES`: "subjective", …); only their headers are translated. A note keeps
the template it was first saved with (the core revises sections, never the template), so the
template can be chosen only while the note on screen is new. A search the core refuses (too
many words) empties the list and says why under the search box (`search_error`), until the
next search.

Autosave: `AUTOSAVE_MS` after the last keystroke, and at once when an editor loses focus, when
another note or conversation is opened, and on `flush()` (lock, quick exit). Each save is a new
revision in the core; the panel never holds more than the note on screen and the list.

Invariants: notes never leave the device (this panel only calls `save_note`, `notes`,
`search_notes`); text is plain; `clear_sensitive()` drops every note from the widgets.

Signals:
- `note_saved(note_id: str)`: the core stored a revision of this note.
- `conversation_requested(conversation_id: str)`: a search hit belongs to another
  conversation; the window opens it and the panel then shows that note.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from securechat.api import NoteView
from ui.bridge import Bridge
from ui.common.forms import label
from ui.common.labels import PlainLabel
from ui.errors import message_for

__all__ = ["AUTOSAVE_MS", "TEMPLATES", "NotesPanel"]

AUTOSAVE_MS = 1500

#: template -> section keys, exactly as the core stores them (shown translated)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "soap": ("subjective", "objective", "assessment", "plan"),
    "dap": ("data", "assessment", "plan"),
    "free": ("note",),
}


class NotesPanel(QWidget):
    note_saved = Signal(str)
    conversation_requested = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesPanel")
        self._bridge = bridge
        self.conversation_id: str | None = None
        self.note_id: str | None = None
        # the note open before a lock: opened again once its conversation lists it
        self.resume_note: str | None = None
        self._dirty = False
        self._saving = False
        self._notes: list[NoteView] = []
        self._pending_note: NoteView | None = None
        self.editors: dict[str, QPlainTextEdit] = {}
        self._headers: dict[str, PlainLabel] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.save_now)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        self.title = label("subtitle", wrap=False)
        self.private_hint = label("muted")
        self.choose_hint = label("muted", "notesChooseHint")
        layout.addWidget(self.title)
        layout.addWidget(self.private_hint)
        layout.addWidget(self.choose_hint)
        self.search = QLineEdit()
        self.search.setObjectName("notesSearch")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.search_error = label("error", "notesSearchError")
        self.search_error.hide()
        self._search_failure: BaseException | None = None  # what search_error says
        layout.addWidget(self.search_error)
        self.note_list = QListWidget()
        self.note_list.setObjectName("notesList")
        self.note_list.setMaximumHeight(96)
        layout.addWidget(self.note_list)
        row = QHBoxLayout()
        self.template_box = QComboBox()
        self.template_box.setObjectName("noteTemplate")
        # sized by a short text, not its longest item (longer in Indonesian): it still
        # stretches to the room there is, and the panel stays narrow enough for two windows
        self.template_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.template_box.setMinimumContentsLength(8)
        for key in TEMPLATES:
            self.template_box.addItem(key.upper() if key != "free" else "", key)
        self.new_button = QPushButton()
        self.new_button.setObjectName("newNoteButton")
        row.addWidget(self.template_box, 1)
        row.addWidget(self.new_button)
        layout.addLayout(row)
        self.session_edit = QLineEdit()
        self.session_edit.setObjectName("noteSessionLabel")
        layout.addWidget(self.session_edit)
        self.sections_host = QWidget()
        self.sections_layout = QVBoxLayout(self.sections_host)
        self.sections_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.sections_host)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(scroll, 1)
        self.status = label("muted", "noteSaveState")  # wraps: never widens the window
        layout.addWidget(self.status)

        self.search.textChanged.connect(self.on_search_edited)
        self.note_list.itemActivated.connect(self.on_note_chosen)
        self.note_list.itemClicked.connect(self.on_note_chosen)
        self.new_button.clicked.connect(self.on_new_clicked)
        self.template_box.currentIndexChanged.connect(self.on_template_chosen)
        self.session_edit.textEdited.connect(self.on_edited)
        self._build_sections("soap", ())
        self.retranslate_ui()
        self.setEnabled(False)

    # --- sections --------------------------------------------------------------------

    def template(self) -> str:
        value = self.template_box.currentData()
        return value if isinstance(value, str) else "free"

    def _build_sections(self, template: str, values: Sequence[tuple[str, str]]) -> None:
        for editor in self.editors.values():
            editor.removeEventFilter(self)
        while self.sections_layout.count():
            item = self.sections_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.editors = {}
        self._headers = {}
        known = dict(values)
        for name in TEMPLATES.get(template, TEMPLATES["free"]):
            header = label("subtitle", wrap=False)
            editor = QPlainTextEdit()
            editor.setObjectName(f"noteSection{name.capitalize()}")
            editor.setTabChangesFocus(True)
            editor.setPlainText(known.pop(name, ""))
            editor.textChanged.connect(self.on_edited)
            editor.installEventFilter(self)
            self.sections_layout.addWidget(header)
            self.sections_layout.addWidget(editor, 1)
            self.editors[name] = editor
            self._headers[name] = header
        self._retranslate_headers()
        leftover = [(name, text) for name, text in known.items() if text.strip()]
        if leftover:  # sections the new template lacks: never dropped, kept in its last one
            last = list(self.editors.values())[-1]
            parts = [last.toPlainText()] if last.toPlainText().strip() else []
            parts += [f"{self._header_text(name)}\n{text}" for name, text in leftover]
            last.setPlainText("\n\n".join(parts))

    def sections(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, editor.toPlainText()) for name, editor in self.editors.items())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and self._dirty:
            self.save_now()
        return False

    # --- conversation ----------------------------------------------------------------

    def show_conversation(self, conversation_id: str) -> None:
        self.flush()
        self.conversation_id = conversation_id
        self.setEnabled(True)
        self.choose_hint.hide()
        pending, self._pending_note = self._pending_note, None
        if pending is not None and pending.conversation_id == conversation_id:
            self._load_note(pending)
            return
        self._start_new_note()
        cid = conversation_id
        self._bridge.call(lambda s: s.notes(cid), self.on_notes_listed, owner=self)

    def on_notes_listed(self, notes: Sequence[NoteView]) -> None:
        if self.search.text().strip():
            return
        self._fill_list(notes)
        resume, self.resume_note = self.resume_note, None
        note = next((n for n in self._notes if n.note_id == resume), None)
        if note is not None and self.note_id is None and not self._dirty:
            self._load_note(note)
            self.note_list.setCurrentRow(self._notes.index(note))

    def _fill_list(self, notes: Sequence[NoteView]) -> None:
        self._notes = sorted(notes, key=lambda n: n.updated_at, reverse=True)
        self.note_list.clear()
        for note in self._notes:
            item = QListWidgetItem(note.session_label or self.tr("Untitled note"))
            item.setData(Qt.ItemDataRole.UserRole, note.note_id)
            self.note_list.addItem(item)

    def listed_labels(self) -> list[str]:
        return [self.note_list.item(r).text() for r in range(self.note_list.count())]

    def _start_new_note(self) -> None:
        self.note_id = None
        self.template_box.setEnabled(True)
        self._dirty = False
        self.session_edit.setText(
            self.tr("Session, %1").replace("%1", QDate.currentDate().toString("yyyy-MM-dd"))
        )
        self._build_sections(self.template(), ())
        self.status.setText("")

    def on_new_clicked(self) -> None:
        self.flush()
        self._start_new_note()

    def on_template_chosen(self) -> None:
        current = self.sections()
        self._build_sections(self.template(), [(n, t) for n, t in current if t.strip()])
        self.on_edited()

    def on_note_chosen(self, item: QListWidgetItem) -> None:
        note_id = item.data(Qt.ItemDataRole.UserRole)
        note = next((n for n in self._notes if n.note_id == note_id), None)
        if note is None or note.note_id == self.note_id:
            return
        self.flush()
        if note.conversation_id != self.conversation_id:
            self._pending_note = note
            self.conversation_requested.emit(note.conversation_id)
            return
        self._load_note(note)

    def _load_note(self, note: NoteView) -> None:
        self.note_id = note.note_id
        self.template_box.setEnabled(False)
        self.template_box.blockSignals(True)
        self.template_box.setCurrentIndex(max(0, self.template_box.findData(note.template)))
        self.template_box.blockSignals(False)
        self.session_edit.setText(note.session_label)
        self._build_sections(note.template, note.sections)
        self._dirty = False
        self.status.setText(self.tr("Saved"))

    # --- saving ----------------------------------------------------------------------

    def on_edited(self) -> None:
        if self.conversation_id is None:
            return
        self._dirty = True
        self.status.setText(self.tr("Editing…"))
        self._timer.start()

    def flush(self) -> None:
        """Save at once if anything changed (switching, lock, quick exit)."""
        if self._dirty:
            self.save_now()

    def save_now(self) -> None:
        self._timer.stop()
        if not self._dirty or self.conversation_id is None:
            return
        if not any(text.strip() for _name, text in self.sections()):
            return
        self._dirty = False
        cid, nid, template = self.conversation_id, self.note_id, self.template()
        sections, label_text = self.sections(), self.session_edit.text().strip()
        self.status.setText(self.tr("Saving…"))
        self._bridge.call(
            lambda s: s.save_note(cid, nid, template, sections, label_text),
            self.on_saved,
            self.on_save_failed,
            owner=self,
        )

    def on_saved(self, note: NoteView) -> None:
        if self.note_id is None and note.conversation_id == self.conversation_id:
            self.note_id = note.note_id
            self.template_box.setEnabled(False)
        if not self._dirty:
            self.status.setText(self.tr("Saved"))
        self.note_saved.emit(note.note_id)
        if not self.search.text().strip() and self.conversation_id is not None:
            cid = self.conversation_id
            self._bridge.call(lambda s: s.notes(cid), self.on_notes_listed, owner=self)

    def on_save_failed(self, _error: BaseException) -> None:
        self._dirty = True
        self.status.setText(self.tr("Not saved yet: will try again."))
        self._timer.start()

    # --- search ----------------------------------------------------------------------

    def on_search_edited(self, text: str) -> None:
        query = text.strip()
        if not query:
            self._show_search_failure(None)
            if self.conversation_id is not None:
                cid = self.conversation_id
                self._bridge.call(lambda s: s.notes(cid), self._fill_list, owner=self)
            return
        self._bridge.call(
            lambda s: s.search_notes(query),
            lambda found: self.on_search_results(query, found),
            lambda error: self.on_search_failed(query, error),
            owner=self,
        )

    def on_search_results(self, query: str, notes: Sequence[NoteView]) -> None:
        if self.search.text().strip() == query:
            self._show_search_failure(None)
            self._fill_list(notes)

    def on_search_failed(self, query: str, error: BaseException) -> None:
        """No list rather than one for another search; the reason under the search box."""
        if self.search.text().strip() == query:
            self._fill_list(())
            self._show_search_failure(error)

    def _show_search_failure(self, error: BaseException | None) -> None:
        self._search_failure = error
        self.search_error.setText("" if error is None else message_for(error))
        self.search_error.setVisible(error is not None)

    # --- privacy and texts -------------------------------------------------------------

    def clear_sensitive(self) -> None:
        self._timer.stop()
        self._dirty = False
        self.conversation_id = None
        self.note_id = None
        self._notes = []
        self.note_list.clear()
        self.search.clear()
        self._show_search_failure(None)
        self.session_edit.clear()
        for editor in self.editors.values():
            editor.blockSignals(True)
            editor.clear()
            editor.blockSignals(False)
        self.setEnabled(False)
        self.choose_hint.show()

    def _header_text(self, key: str) -> str:
        names = {
            "subjective": self.tr("Subjective"),
            "objective": self.tr("Objective"),
            "assessment": self.tr("Assessment"),
            "plan": self.tr("Plan"),
            "data": self.tr("Data"),
            "note": self.tr("Notes"),
        }
        return names.get(key, key)

    def _retranslate_headers(self) -> None:
        for key, header in self._headers.items():
            header.setText(self._header_text(key))
            self.editors[key].setAccessibleName(self._header_text(key))

    def retranslate_ui(self) -> None:
        self.title.setText(self.tr("Session notes"))
        self.private_hint.setText(self.tr("Only on this computer, encrypted. Saved as you type."))
        self.choose_hint.setText(
            self.tr("Choose a conversation to read its notes and write new ones.")
        )
        self._show_search_failure(self._search_failure)
        self.search.setPlaceholderText(self.tr("Search all notes"))
        self.search.setAccessibleName(self.tr("Search notes"))
        self.note_list.setAccessibleName(self.tr("Notes"))
        self.template_box.setItemText(0, self.tr("SOAP template"))
        self.template_box.setItemText(1, self.tr("DAP template"))
        self.template_box.setItemText(2, self.tr("Free notes"))
        self.template_box.setAccessibleName(self.tr("Note template"))
        self.new_button.setText(self.tr("New note"))
        self.session_edit.setAccessibleName(self.tr("Session label"))
        self._retranslate_headers()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
