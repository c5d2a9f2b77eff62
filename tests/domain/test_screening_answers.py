"""Issue 13 item 7, the screening trap: "not applicable" where a truthful No would be a false
flag. Which questions take it, that it is never flagged, and what a refused one says."""

from __future__ import annotations

from datetime import date

import pytest
from factories import make_screening

from needledesk.domain.model import (
    ANSWER_TEXT,
    FLAGGED_ANSWER,
    NOT_APPLICABLE,
    NOT_APPLICABLE_ALLOWED,
    SCREENING_QUESTIONS,
    Screening,
)
from needledesk.domain.rules import screening_warnings, validate_screening

TAKE_NOT_APPLICABLE = sorted(NOT_APPLICABLE_ALLOWED)
REFUSE_NOT_APPLICABLE = [k for k in SCREENING_QUESTIONS if k not in NOT_APPLICABLE_ALLOWED]


def test_retinoids_stopped_takes_not_applicable_because_its_no_is_the_flag():
    # the trap: a client who never used topical retinoids had nothing to stop
    assert "retinoids_stopped" in NOT_APPLICABLE_ALLOWED
    # every question that takes it flags "no"; the ones that flag "yes" have an honest "no"
    assert all(FLAGGED_ANSWER[key] is False for key in NOT_APPLICABLE_ALLOWED)
    assert {k for k in SCREENING_QUESTIONS if not FLAGGED_ANSWER[k]} == NOT_APPLICABLE_ALLOWED


def test_not_applicable_is_never_flagged():
    screening = make_screening("c", answers={"retinoids_stopped": NOT_APPLICABLE})
    assert screening.flagged == []
    assert screening.not_applicable == ["retinoids_stopped"]
    assert validate_screening(screening, limits=False) == []


def test_no_to_retinoids_stopped_is_still_flagged_beside_not_applicable_elsewhere():
    screening = make_screening("c")
    screening.answers["retinoids_stopped"] = False
    screening.answers["pregnant"] = True
    assert screening.flagged == ["pregnant", "retinoids_stopped"]
    assert screening.not_applicable == []


def test_flags_and_not_applicable_keep_questionnaire_order():
    answers = {key: FLAGGED_ANSWER[key] for key in reversed(list(SCREENING_QUESTIONS))}
    screening = Screening("c", date(2026, 11, 1), answers)
    assert screening.flagged == list(SCREENING_QUESTIONS)
    answers["retinoids_stopped"] = NOT_APPLICABLE
    assert "retinoids_stopped" not in screening.flagged
    assert len(screening.flagged) == len(SCREENING_QUESTIONS) - 1


@pytest.mark.parametrize("key", REFUSE_NOT_APPLICABLE)
def test_not_applicable_on_a_yes_flagged_question_is_refused_by_its_label(key):
    screening = make_screening("c")
    screening.answers[key] = NOT_APPLICABLE
    (problem,) = validate_screening(screening, limits=False)
    label = SCREENING_QUESTIONS[key]
    assert problem.message.startswith(f"“{label}” cannot be answered Not applicable")
    assert "Topical retinoids stopped ahead of treatment" in problem.message
    for developer_words in (key, NOT_APPLICABLE, "None", "'"):
        assert developer_words not in problem.message
    # and it is not flagged either: a refused answer is an error, not a warning
    assert key not in screening.flagged


@pytest.mark.parametrize("value", ["n/a", "Not applicable", 0, 1, "true"])
def test_other_values_are_still_refused(value):
    screening = make_screening("c")
    screening.answers["retinoids_stopped"] = value
    (problem,) = validate_screening(screening, limits=False)
    assert problem.path == "answers.retinoids_stopped"


def test_every_answer_has_words_for_the_screen():
    assert [ANSWER_TEXT[a] for a in (True, False, NOT_APPLICABLE, None)] == [
        "Yes", "No", "Not applicable", "Not asked"]


def test_the_warnings_before_a_session_date_the_screening_as_the_window_does():
    # what the acknowledgement question and the import report say (issue 13 items 3 and 9)
    screening = make_screening("c", date=date(2025, 1, 9), consent_signed=False)
    screening.answers["pregnant"] = True
    messages = [w.message for w in screening_warnings(screening)]
    # the consent is no longer the screening's: consent_warnings speaks of it
    assert messages == ["screening of 9 Jan 2025: Pregnant: yes"]
    screening.answers["retinoids_stopped"] = NOT_APPLICABLE
    assert [w.message for w in screening_warnings(screening)] == messages  # never a warning
