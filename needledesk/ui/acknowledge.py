"""The question a practitioner answers to go past a guideline: proceed, with an optional
reason. Which warnings need asking, and how the answer is recorded, is the domain's
(`domain.acknowledgements`)."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QWidget

from needledesk.domain.rules import GuidelineWarning


def acknowledgement_text(warnings: list[GuidelineWarning]) -> str:
    lines = "\n".join(f"• {w.message}" for w in warnings)
    return (f"{lines}\n\nProceed as a qualified practitioner? The acknowledgement is recorded "
            "on the session.\nReason (optional):")


def ask_acknowledgement(parent: QWidget | None, warnings: list[GuidelineWarning]) -> str | None:
    """The reason given (may be empty), or None when the practitioner does not proceed."""
    reason, ok = QInputDialog.getText(parent, "Guidelines exceeded",
                                      acknowledgement_text(warnings))
    return reason.strip() if ok else None
