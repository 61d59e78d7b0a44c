"""Session summaries: the counselor's composer, the client's task list, the referral dialog.

Invariants: summaries and tasks are plain text; a client ticks tasks only on summaries they
received; the referral dialog shows exactly what will be sent before it is sent.

Signals:
- `TaskDialog.task_toggled(message_id: str, index: int, done: bool)`
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from securechat.api import MessageView, SessionSummary
from ui.common.forms import label, name_buttons
from ui.common.labels import CheckLabel, literal_ampersands
from ui.crisis.data import entries_for

__all__ = ["ReferralDialog", "SummaryComposer", "TaskDialog"]


def _lines(edit: QPlainTextEdit) -> tuple[str, ...]:
    return tuple(line.strip() for line in edit.toPlainText().splitlines() if line.strip())


class SummaryComposer(QDialog):
    """Key points and tasks, one per line. `summary()` gives the result after `exec()`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryComposer")
        self.setWindowTitle(self.tr("Close the session with a summary"))
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = label("muted")
        intro.setText(
            self.tr("Write one key point or task per line. The client can tick tasks off.")
        )
        layout.addWidget(intro)
        form = QFormLayout()
        self.points = QPlainTextEdit()
        self.points.setObjectName("summaryKeyPoints")
        self.points.setAccessibleName(self.tr("Key points"))
        self.tasks = QPlainTextEdit()
        self.tasks.setObjectName("summaryTasks")
        self.tasks.setAccessibleName(self.tr("Tasks to practise"))
        for edit in (self.points, self.tasks):
            edit.setTabChangesFocus(True)  # Tab reaches the buttons; a tab is no list item
        form.addRow(self.tr("Key points"), self.points)
        form.addRow(self.tr("Tasks to practise"), self.tasks)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        name_buttons(self.buttons)
        ok.setText(self.tr("Send summary"))
        ok.setObjectName("sendSummaryButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.points.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(_lines(self.points)))

    def summary(self) -> SessionSummary:
        return SessionSummary(_lines(self.points), _lines(self.tasks))


class TaskDialog(QDialog):
    task_toggled = Signal(str, int, bool)

    def __init__(self, message: MessageView, editable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskDialog")
        self.setWindowTitle(self.tr("Session summary"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        summary = message.summary or SessionSummary((), ())
        points_title = label("subtitle", wrap=False)
        points_title.setText(self.tr("Key points"))
        layout.addWidget(points_title)
        for point in summary.key_points:
            item = label(object_name="summaryPoint")
            item.setText(f"•  {point}")
            layout.addWidget(item)
        tasks_title = label("subtitle", wrap=False)
        tasks_title.setText(self.tr("Tasks to practise"))
        layout.addWidget(tasks_title)
        self.boxes: list[QCheckBox] = []
        self.task_texts: list[CheckLabel] = []
        for i, task in enumerate(summary.tasks):
            # A check box's own text never wraps: a long task would widen the dialog past the
            # screen. The counselor's words go into a wrapping label beside an empty box.
            box = QCheckBox()
            box.setObjectName(f"task{i}")
            box.setAccessibleName(task)
            box.setChecked(i < len(message.tasks_done) and message.tasks_done[i])
            box.setEnabled(editable)
            box.toggled.connect(
                lambda done, i=i, mid=message.message_id: self.task_toggled.emit(mid, i, done)
            )
            text = CheckLabel(literal_ampersands(task))  # as typed: '&' is no shortcut here
            text.setObjectName(f"task{i}Text")
            text.setBuddy(box)
            row = QHBoxLayout()
            row.addWidget(box, 0, Qt.AlignmentFlag.AlignTop)
            row.addWidget(text, 1)
            self.boxes.append(box)
            self.task_texts.append(text)
            layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        name_buttons(buttons)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class ReferralDialog(QDialog):
    """Preview of the crisis-numbers referral; `language()` after `exec()`."""

    def __init__(self, region: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("referralDialog")
        self.setWindowTitle(self.tr("Send crisis numbers"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        intro = label()
        intro.setText(
            self.tr(
                "This sends the client the emergency numbers for their region and a short, "
                "calm note on what to do now. Use it when you are worried about their safety."
            )
        )
        layout.addWidget(intro)
        numbers = label("subtitle")
        numbers.setText("   ·   ".join(e.number for e in entries_for(region)) or "112")
        layout.addWidget(numbers)
        form = QFormLayout()
        self.language_box = QComboBox()
        self.language_box.setObjectName("referralLanguage")
        self.language_box.addItem("Bahasa Indonesia", "id")
        self.language_box.addItem("English", "en")
        form.addRow(self.tr("Language of the message"), self.language_box)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        name_buttons(buttons)
        ok.setText(self.tr("Send"))
        ok.setObjectName("sendReferralButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def language(self) -> str:
        value = self.language_box.currentData()
        return value if isinstance(value, str) else "id"
