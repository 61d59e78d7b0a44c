"""Text a person wrote shows exactly as written in widgets that read '&' as a mnemonic."""

from __future__ import annotations

from PySide6.QtGui import QAccessible, QKeySequence
from pytestqt.qtbot import QtBot

from securechat.api import DeliveryState, MessageKind, MessageView, SessionSummary
from ui.chat.summary import TaskDialog

TASK = "Eat & sleep before 23:00 && walk"


def _summary_dialog(qtbot: QtBot, task: str = TASK) -> TaskDialog:
    message = MessageView(
        "m1",
        "c1",
        False,
        MessageKind.SUMMARY,
        "",
        0.0,
        DeliveryState.DELIVERED,
        SessionSummary(("Sleep matters",), (task,)),
        (False,),
    )
    dialog = TaskDialog(message, editable=True)
    qtbot.addWidget(dialog)
    return dialog


def test_a_task_with_an_ampersand_reads_exactly_as_written(qtbot: QtBot) -> None:
    """The task check box shows (and tells a screen reader) the counselor's text as typed."""
    box = _summary_dialog(qtbot).boxes[0]
    iface = QAccessible.queryAccessibleInterface(box)
    assert iface is not None
    assert iface.text(QAccessible.Text.Name) == TASK


def test_a_task_with_an_ampersand_gives_no_keyboard_shortcut(qtbot: QtBot) -> None:
    """An '&' in a task is no Alt shortcut that would tick the task from the keyboard."""
    box = _summary_dialog(qtbot).boxes[0]
    assert QKeySequence.mnemonic(box.text()).isEmpty()


def test_the_visible_task_text_gives_no_keyboard_shortcut(qtbot: QtBot) -> None:
    """The task's words sit in a label beside the box; an '&' there is shown, not an Alt key."""
    dialog = _summary_dialog(qtbot)
    text = dialog.task_texts[0]
    assert text.buddy() is dialog.boxes[0]
    assert QKeySequence.mnemonic(text.text()).isEmpty()
    assert text.text().replace("&&", "&") == TASK


def test_a_long_task_wraps_instead_of_widening_the_dialog(qtbot: QtBot) -> None:
    """A task of a few hundred characters wraps: the dialog stays as wide as a short one."""
    long_task = "Tulis tiga hal yang berjalan baik hari ini sebelum tidur, " * 8
    dialog = _summary_dialog(qtbot, long_task)
    short = _summary_dialog(qtbot)
    assert dialog.minimumSizeHint().width() <= short.minimumSizeHint().width() + 40
