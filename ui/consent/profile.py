"""The counselor's public profile: who they are, what they help with, when they answer.

Job: load `counselor_profile()`, let the counselor edit it, and save it with
`update_counselor_profile(...)`. Clients see these fields beside the disclosure, and the
directory lists the name, topics and languages. Optionally the default disclosure is re-rendered
from the profile, which makes a new disclosure version: clients are asked to consent again, and
the dialog says so before the counselor chooses it.

Signal: `profile_saved()`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from securechat.api import CounselorProfileView
from ui.bridge import Bridge
from ui.common.forms import label, name_buttons, primary_button, wheel_only_with_focus
from ui.errors import message_for

__all__ = ["CounselorProfileDialog"]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class CounselorProfileDialog(QDialog):
    profile_saved = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counselorProfileDialog")
        self._bridge = bridge
        self._loaded: CounselorProfileView | None = None
        self.setWindowTitle(self.tr("My profile"))
        self.setMinimumWidth(700)
        layout = QVBoxLayout(self)
        intro = label("muted")
        intro.setText(
            self.tr(
                "Clients read this beside your disclosure before they agree to start. Name, "
                "topics and languages also appear in the counselor directory."
            )
        )
        layout.addWidget(intro)
        form = QFormLayout()
        self.name_edit = self._line("profileName", 120)
        self.credentials_edit = self._line("profileCredentials", 300)
        self.credentials_edit.setPlaceholderText(self.tr("e.g. M.Psi., licensed psychologist"))
        self.topics_edit = self._line("profileTopics", 400)
        self.topics_edit.setPlaceholderText(self.tr("e.g. stress, grief, family, studies"))
        self.languages_edit = self._line("profileLanguages", 200)
        self.hours_edit = self._line("profileHours", 200)
        self.time_zone_edit = self._line("profileTimeZone", 100)
        self.response_hours = QSpinBox()
        self.response_hours.setObjectName("profileResponseHours")
        self.response_hours.setRange(1, 24 * 14)
        self.response_hours.setSuffix(self.tr(" h"))
        self.retention_years = QSpinBox()
        self.retention_years.setObjectName("profileRetentionYears")
        self.retention_years.setRange(1, 50)
        self.retention_years.setSuffix(self.tr(" years"))
        wheel_only_with_focus(self.response_hours, self.retention_years)
        rows = (
            (self.tr("Name shown to clients"), self.name_edit),
            (self.tr("Qualifications"), self.credentials_edit),
            (self.tr("Topics (separate with commas)"), self.topics_edit),
            (self.tr("Languages (separate with commas)"), self.languages_edit),
            (self.tr("Service hours"), self.hours_edit),
            (self.tr("Time zone"), self.time_zone_edit),
            (self.tr("Usual time to reply"), self.response_hours),
            (self.tr("Records kept for"), self.retention_years),
        )
        for text, widget in rows:
            widget.setAccessibleName(text)
            form.addRow(text, widget)
        layout.addLayout(form)
        self.regenerate = QCheckBox(self.tr("Also rewrite my disclosure from this profile"))
        self.regenerate.setObjectName("profileRegenerateDisclosure")
        layout.addWidget(self.regenerate)
        regenerate_hint = label("muted")
        regenerate_hint.setText(
            self.tr("This replaces your own wording, and clients are asked to agree again.")
        )
        layout.addWidget(regenerate_hint)
        self.status = label("muted", "profileStatus")
        layout.addWidget(self.status)
        self.error = label("error", "profileError")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        name_buttons(buttons)
        self.save_button = primary_button("saveProfileButton")
        self.save_button.setText(self.tr("Save"))
        self.save_button.setEnabled(False)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self.on_save_clicked)
        self.name_edit.textChanged.connect(self._update_save)
        bridge.call(lambda s: s.counselor_profile(), self.on_loaded, self.on_failed, owner=self)

    @staticmethod
    def _line(object_name: str, max_length: int) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(object_name)
        edit.setMaxLength(max_length)
        return edit

    def _update_save(self) -> None:
        self.save_button.setEnabled(
            self._loaded is not None and bool(self.name_edit.text().strip())
        )

    def on_loaded(self, view: CounselorProfileView) -> None:
        self._loaded = view
        self.name_edit.setText(view.name)
        self.credentials_edit.setText(view.credentials)
        self.topics_edit.setText(", ".join(view.specializations))
        self.languages_edit.setText(", ".join(view.languages))
        self.hours_edit.setText(view.service_hours)
        self.time_zone_edit.setText(view.time_zone)
        self.response_hours.setValue(view.response_time_hours)
        self.retention_years.setValue(view.records_retention_years)
        self._update_save()

    def edited_view(self) -> CounselorProfileView:
        """The profile as the form shows it now."""
        return CounselorProfileView(
            name=self.name_edit.text().strip(),
            credentials=self.credentials_edit.text().strip(),
            specializations=_split(self.topics_edit.text()),
            languages=_split(self.languages_edit.text()),
            service_hours=self.hours_edit.text().strip(),
            time_zone=self.time_zone_edit.text().strip(),
            response_time_hours=self.response_hours.value(),
            records_retention_years=self.retention_years.value(),
        )

    def on_save_clicked(self) -> None:
        view, regenerate = self.edited_view(), self.regenerate.isChecked()
        self.error.hide()
        self.status.clear()
        self.save_button.setEnabled(False)
        self._bridge.call(
            lambda s: s.update_counselor_profile(view, regenerate_disclosure=regenerate),
            self.on_saved,
            self.on_failed,
            owner=self,
        )

    def on_saved(self, view: CounselorProfileView) -> None:
        self.on_loaded(view)
        self.regenerate.setChecked(False)
        self.status.setText(self.tr("Saved. Clients who open your invite now see this profile."))
        self.profile_saved.emit()

    def on_failed(self, error: BaseException) -> None:
        self._update_save()
        self.error.setText(message_for(error))
        self.error.show()
