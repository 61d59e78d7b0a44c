"""Small helpers for building forms: primary buttons, titled labels, a busy bar, wheel-safe
value fields."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QDialogButtonBox, QProgressBar, QPushButton, QWidget

from ui.common.labels import PlainLabel

__all__ = ["busy_bar", "label", "name_buttons", "primary_button", "wheel_only_with_focus"]


def primary_button(object_name: str, parent: QWidget | None = None) -> QPushButton:
    button = QPushButton(parent)
    button.setObjectName(object_name)
    button.setProperty("primary", True)
    return button


def label(role: str = "", object_name: str = "", wrap: bool = True) -> PlainLabel:
    widget = PlainLabel()
    if role:
        widget.setProperty("role", role)
    if object_name:
        widget.setObjectName(object_name)
    widget.setWordWrap(wrap)
    return widget


def busy_bar(object_name: str) -> QProgressBar:
    """An indeterminate progress bar, hidden until work starts."""
    bar = QProgressBar()
    bar.setObjectName(object_name)
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(6)
    bar.hide()
    return bar


def name_buttons(box: QDialogButtonBox) -> None:
    """Give standard dialog buttons our own translated texts (Qt ships no Indonesian)."""
    std = QDialogButtonBox.StandardButton
    texts = {
        std.Ok: QCoreApplication.translate("buttons", "OK"),
        std.Cancel: QCoreApplication.translate("buttons", "Cancel"),
        std.Close: QCoreApplication.translate("buttons", "Close"),
        std.Save: QCoreApplication.translate("buttons", "Save"),
        std.Yes: QCoreApplication.translate("buttons", "Yes"),
        std.No: QCoreApplication.translate("buttons", "No"),
    }
    for which, text in texts.items():
        button = box.button(which)
        if button is not None and not button.property("customText"):
            button.setText(text)


class _WheelOnlyWithFocus(QObject):
    """Passes a wheel event on to the parent (the form scrolls) unless the field has focus."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Wheel
            and isinstance(watched, QWidget)
            and not watched.hasFocus()
        ):
            event.ignore()
            return True
        return False


def wheel_only_with_focus(*fields: QWidget) -> None:
    """Spin boxes and combo boxes change on the mouse wheel only once clicked or tabbed into,
    so scrolling past one never changes a setting by accident (Qt's default gives them focus
    on the wheel, then steps them)."""
    for field in fields:
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        field.installEventFilter(_WheelOnlyWithFocus(field))
