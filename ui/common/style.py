"""The app's quiet look: one palette and one style sheet, applied once at start-up.

Invariant: text colours keep a contrast ratio of at least 4.5:1 against their background
(WCAG AA); state is never shown by colour alone (delivery states also have words and marks).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["COLORS", "apply_style"]

COLORS: dict[str, str] = {
    "window": "#F5F6F4",
    "surface": "#FFFFFF",
    "text": "#1E2A32",  # 14:1 on surface
    "muted": "#4F5D66",  # 6.6:1 on surface
    "accent": "#2C6A6E",  # 6.0:1 on surface; white on it 6.0:1
    "accent_soft": "#E3EFEE",
    "border": "#D5DAD7",
    "outgoing": "#E1EEEC",
    "incoming": "#FFFFFF",
    "help_bg": "#FCEFE6",
    "help_text": "#7F3517",  # 7.5:1 on help_bg
    "warn_bg": "#FFF6DB",
    "warn_text": "#5C4200",
    "failed": "#9B2C1F",
}

_SHEET = """
QWidget {{ color: {text}; font-size: 11pt; }}
QMainWindow, QDialog {{ background: {window}; }}
QLineEdit, QPlainTextEdit, QTextEdit, QListView, QListWidget {{
    background: {surface}; border: 1px solid {border}; border-radius: 6px; padding: 6px;
    selection-background-color: {accent}; selection-color: #FFFFFF;
}}
QLineEdit:focus, QPlainTextEdit:focus, QListView:focus, QListWidget:focus {{
    border: 2px solid {accent};
}}
QLineEdit:disabled, QPlainTextEdit:disabled, QTextEdit:disabled, QListView:disabled,
QListWidget:disabled {{
    background: #EEF0EE;
}}
QComboBox, QSpinBox {{ padding: 4px 8px; min-height: 22px; }}
QPushButton {{
    background: {surface}; border: 1px solid {border}; border-radius: 6px;
    padding: 7px 14px; min-height: 20px;
}}
QPushButton:hover {{ border-color: {accent}; }}
QPushButton:focus {{ border: 2px solid {accent}; }}
QPushButton:disabled {{ color: #8A949A; background: #EEF0EE; }}
QPushButton[primary="true"] {{ background: {accent}; color: #FFFFFF; border-color: {accent}; }}
QPushButton[primary="true"]:disabled {{ background: #A9BDBE; color: #FFFFFF; }}
QPushButton#getHelpButton {{
    background: {help_bg}; color: {help_text}; border: 1px solid #E4B9A0; font-weight: 600;
}}
QPushButton#quickExitButton {{ color: {muted}; }}
QLabel[role="title"] {{ font-size: 17pt; font-weight: 600; }}
QLabel[role="subtitle"] {{ font-size: 12pt; font-weight: 600; }}
QLabel[role="muted"] {{ color: {muted}; }}
QLabel[role="error"] {{ color: {failed}; font-weight: 600; }}
QFrame[role="banner"] {{
    background: {warn_bg}; border: 1px solid #E9D28C; border-radius: 6px;
}}
QFrame[role="banner"] QLabel {{ color: {warn_text}; }}
QFrame[role="card"] {{
    background: {surface}; border: 1px solid {border}; border-radius: 8px;
}}
QFrame#helpBar {{ background: {surface}; border-bottom: 1px solid {border}; }}
"""


def apply_style(app: QApplication) -> None:
    """Give the application its palette, font and style sheet."""
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(COLORS["window"]))
    palette.setColor(QPalette.ColorRole.Base, QColor(COLORS["surface"]))
    palette.setColor(QPalette.ColorRole.Text, QColor(COLORS["text"]))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(COLORS["text"]))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor(COLORS["text"]))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(COLORS["accent"]))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(COLORS["muted"]))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSize(11)
    app.setFont(font)
    app.setStyleSheet(_SHEET.format(**COLORS))
