"""The first-run set-up: on a database nobody has set up, a few clinic details before the window.

When it shows: `store.settings.needs_first_run` (no clinic setting stored and no client), so
a file holding records (an import, a restored backup) is never asked. Finish saves what was
typed; Skip for now (also Escape, or closing the dialog) saves NeedleDesk's defaults with
the page size and currency this PC's locale implies. Either way every clinic setting is then
stored, which is the mark that the set-up is done: it is not asked again, and everything in
it stays editable in File › Settings. Nothing typed is kept on Skip, and Skip asks nothing:
the same fields are in Settings.

Automated runs pass it without a person: `NEEDLEDESK_SKIP_SETUP=1` leaves the set-up out
and writes nothing (the file stays "not set up", so a person's first real start still
asks); a database whose settings were saved beforehand is not asked either. `--smoke-test`
builds the window through `open_main_window` without a set-up step and never sees it.
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from needledesk.domain.rules import Problem
from needledesk.settings import PAGE_SIZES, ClinicSettings, validate_settings
from needledesk.store.repository import Repository
from needledesk.store.settings import needs_first_run
from needledesk.ui.forms import FieldMessage, route, with_message
from needledesk.ui.settings_dialog import (
    LogoAndCurrencyFields,
    _add_row,
    merged,
)

#: Set to 1 (any value but empty or 0) and the window starts without the set-up.
SKIP_SETUP_ENV = "NEEDLEDESK_SKIP_SETUP"
#: Territories whose usual paper is US Letter (CLDR's paperSize data); A4 everywhere else.
LETTER_TERRITORIES = frozenset(
    {"US", "CA", "MX", "PH", "CL", "CO", "VE", "BZ", "CR", "GT", "NI", "PA", "PR", "SV"})
CURRENCY_HINT = "three capital letters, such as EUR, GBP or USD"


def locale_defaults(locale: QLocale | None = None) -> tuple[str, str]:
    """The paper size and currency code the locale implies (the default locale unless
    given): ("Letter", "USD") for en_US, ("A4", "EUR") for de_DE. A locale that names no
    territory (C, POSIX) gives A4 and "" for the currency: the person picks it."""
    locale = locale or QLocale()
    territory = QLocale.territoryToCode(locale.territory())
    page_size = "Letter" if territory in LETTER_TERRITORIES else "A4"
    currency = locale.currencySymbol(QLocale.CurrencySymbolFormat.CurrencyIsoCode)
    if len(currency) != 3 or not currency.isalpha():
        currency = ""
    return page_size, currency.upper()


def starting_settings(locale: QLocale | None = None) -> ClinicSettings:
    """What the set-up shows at first: blank clinic details, the locale's paper and currency
    (the currency blank when the locale names none), the other settings' defaults."""
    page_size, currency = locale_defaults(locale)
    return ClinicSettings(clinic_name="", page_size=page_size, currency=currency)


def skipped_settings(locale: QLocale | None = None) -> ClinicSettings:
    """What Skip stores: the declared defaults with the locale's paper size and currency.
    Where the locale names no currency, the declared default (USD) stays, so a fee always
    has a currency; the session editor shows it beside the fee and Settings changes it."""
    page_size, currency = locale_defaults(locale)
    return replace(ClinicSettings(), page_size=page_size,
                   currency=currency or ClinicSettings.currency)


class FirstRunDialog(LogoAndCurrencyFields, QDialog):
    """Clinic name, address, phone, currency, paper size, first practitioner and a logo.

    The logo and currency fields work exactly as on the Settings dialog's Clinic tab: the
    same methods (LogoAndCurrencyFields), over widgets of the same names."""

    def __init__(self, settings: ClinicSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Set up NeedleDesk")
        self._loaded = settings
        self._logo: bytes | None = None
        self._finish_tried = False

        heading = QLabel("Welcome to NeedleDesk")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        heading.setFont(font)
        intro = QLabel("These details head every printed summary. The clinic name and currency "
                       "are needed; the rest can wait. Everything here can be changed later in "
                       "File › Settings.")
        intro.setWordWrap(True)

        self.clinic_name = QLineEdit()
        self.clinic_name.setPlaceholderText("As it should head printed summaries")
        self.clinic_name_message = FieldMessage()
        self.address = QPlainTextEdit()
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(self.address.fontMetrics().lineSpacing() * 3 + 12)
        self.phone = QLineEdit()

        self.currency = QLineEdit()
        self.currency.setMaxLength(10)
        self.currency.setFixedWidth(self.currency.fontMetrics().horizontalAdvance("MMMMMM") + 12)
        self.currency.setToolTip(f"The currency of your fees: {CURRENCY_HINT}")
        self.currency.textChanged.connect(self._currency_in_capitals)
        self.currency_message = FieldMessage()
        self.currency_hint = QLabel(f"This PC's regional settings name no currency: type "
                                    f"yours, {CURRENCY_HINT}.")
        self.currency_hint.setWordWrap(True)
        self.currency_hint.setStyleSheet("color: palette(placeholder-text);")
        self.currency_hint.setVisible(not settings.currency)
        currency_cell = with_message(self.currency, self.currency_message)
        cell_layout = currency_cell.layout()
        assert isinstance(cell_layout, QBoxLayout)   # with_message's QVBoxLayout
        cell_layout.insertWidget(1, self.currency_hint)

        self.page_size = QComboBox()
        self.page_size.addItems(PAGE_SIZES)
        self.page_size.setToolTip("The paper printed summaries are laid out for")
        self.practitioner = QLineEdit()
        self.practitioner.setPlaceholderText("Optional: more can be added in Settings")

        logo_row = self._logo_row()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        _add_row(form, "Clinic &name:", with_message(self.clinic_name, self.clinic_name_message),
                 buddy=self.clinic_name)
        _add_row(form, "&Address:", self.address)
        _add_row(form, "P&hone:", self.phone)
        _add_row(form, "C&urrency:", currency_cell, buddy=self.currency)
        _add_row(form, "Page si&ze:", self.page_size)
        _add_row(form, "First p&ractitioner:", self.practitioner)
        _add_row(form, "&Logo (optional):", with_message(logo_row, self.logo_message),
                 buddy=self.choose_logo_button)

        self.summary = FieldMessage()
        self.buttons = QDialogButtonBox()
        self.finish_button = self.buttons.addButton(
            "&Finish", QDialogButtonBox.ButtonRole.AcceptRole)
        self.skip_button = self.buttons.addButton(
            "&Skip for now", QDialogButtonBox.ButtonRole.RejectRole)
        self.skip_button.setToolTip("Start with NeedleDesk's defaults; every one of these "
                                    "is in File › Settings later")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does Qt keep it as the dialog's default.
        self.finish_button.setDefault(True)
        self.messages = {"clinic_name": self.clinic_name_message,
                         "currency": self.currency_message}
        self._fields = {"clinic_name": self.clinic_name, "currency": self.currency}
        chain = (self.clinic_name, self.address, self.phone, self.currency, self.page_size,
                 self.practitioner, self.choose_logo_button, self.remove_logo_button,
                 self.finish_button, self.skip_button)
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self.resize(540, self.sizeHint().height())

        self.load(settings)
        self.clinic_name.textChanged.connect(self._revalidate_after_finish)
        self.currency.textChanged.connect(self._revalidate_after_finish)
        self.clinic_name.setFocus()

    def load(self, settings: ClinicSettings) -> None:
        self._loaded = settings
        self.clinic_name.setText(settings.clinic_name)
        self.address.setPlainText(settings.address)
        self.phone.setText(settings.phone)
        self.currency.setText(settings.currency)
        self.page_size.setCurrentIndex(max(self.page_size.findText(settings.page_size), 0))
        self.practitioner.setText(settings.practitioners[0] if settings.practitioners else "")
        self.set_logo(settings.logo)

    def settings(self) -> ClinicSettings:
        """The settings as the fields now hold them (the settings not shown are kept)."""
        practitioner = " ".join(self.practitioner.text().split())
        return replace(
            self._loaded,
            clinic_name=self.clinic_name.text().strip(),
            address=self.address.toPlainText().strip(),
            phone=self.phone.text().strip(),
            currency=self.currency.text().strip().upper(),
            page_size=self.page_size.currentText(),
            practitioners=[practitioner] if practitioner else [],
            logo=self._logo,
        )

    def problems(self) -> list[Problem]:
        """What keeps Finish from saving, each naming its field and what it allows."""
        settings = self.settings()
        problems = []
        if not settings.clinic_name:
            problems.append(Problem("clinic_name", "Clinic name: type the name that heads "
                                    "printed summaries"))
        if not settings.currency:
            problems.append(Problem("currency", f"Currency: type your clinic's currency, "
                                    f"{CURRENCY_HINT}"))
        problems += [p for p in validate_settings(settings)
                     if not (p.path == "currency" and not settings.currency)]
        return merged(problems)

    def revalidate(self) -> bool:
        """Show each problem beside its field; True when there are none."""
        problems = self.problems()
        unplaced = route(problems, self.messages)
        if problems:
            self.summary.show_error("Nothing is saved until the marked fields are filled in; "
                                    "Skip for now starts with the defaults."
                                    + "".join(f"\n{p.message}" for p in unplaced))
        else:
            self.summary.clear_message()
        self.currency_hint.setVisible(not self.currency.text().strip()
                                      and not self.currency_message.text())
        # Wrapped messages need more height than the layout grows the dialog by itself.
        layout = self.layout()
        if layout is not None:
            layout.activate()
            needed = layout.totalHeightForWidth(self.width())
            if needed > self.height():
                self.resize(self.width(), needed)
        return not problems

    def _revalidate_after_finish(self) -> None:
        if self._finish_tried:
            self.revalidate()

    def accept(self) -> None:
        """Finish: only when every field holds; otherwise the first marked field has focus."""
        self._finish_tried = True
        if self.revalidate():
            super().accept()
            return
        for path, widget in self._fields.items():
            if self.messages[path].text():
                widget.setFocus()
                widget.selectAll()
                break

    @classmethod
    def ask(cls, parent: QWidget | None, settings: ClinicSettings) -> ClinicSettings | None:
        """Run the set-up modally: the settings on Finish, None on Skip. Tests replace this."""
        dialog = cls(settings, parent)
        try:
            finished = dialog.exec() == QDialog.DialogCode.Accepted
            return dialog.settings() if finished else None
        finally:
            dialog.deleteLater()


def skip_requested() -> bool:
    """True when the environment asks to start without the set-up (automated runs)."""
    return os.environ.get(SKIP_SETUP_ENV, "").strip() not in ("", "0")


def set_up_if_needed(repo: Repository, parent: QWidget | None = None, *, by: str = "") -> str:
    """Before the main window: on a database nobody has set up, ask, and save the answer
    (or, on Skip, the defaults). Returns what happened: "environment" (skipped by
    NEEDLEDESK_SKIP_SETUP, nothing written), "not needed", "finished" or "skipped". `by`:
    who the audit trail credits the settings to (on a first run there is nobody yet)."""
    if skip_requested():
        return "environment"
    if not needs_first_run(repo.db):
        return "not needed"
    chosen = FirstRunDialog.ask(parent, starting_settings())
    repo.save_settings(chosen if chosen is not None else skipped_settings(), by=by)
    return "finished" if chosen is not None else "skipped"
