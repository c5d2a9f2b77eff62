"""The question before each session: which screening, how old, what flagged, what to ask again."""

from __future__ import annotations

from datetime import date

from needledesk.domain.model import NOT_APPLICABLE, ScreeningCheck, ScreeningOutcome
from needledesk.domain.visit import check_text, updated, visit_check
from tests.factories import make_screening

DAY = date(2026, 12, 1)


def _check(screenings, day=DAY, max_days=365, weeks=2):
    return visit_check(screenings, day, screening_max_days=max_days, injectables_weeks=weeks)


def test_no_screening_asks_nothing():
    assert _check([]) is None
    # one taken after the session's day does not count either
    assert _check([make_screening("c", date=date(2026, 12, 5))]) is None


def test_latest_screening_its_age_and_the_question():
    old = make_screening("c", date=date(2026, 6, 1))
    latest = make_screening("c", date=date(2026, 11, 3))
    check = _check([latest, old])
    assert check is not None
    assert check.screening is latest
    assert check.age_days == 28
    assert not check.needs_full
    assert check.question == "Anything changed since the screening of 3 Nov 2026?"
    assert check.age_text == "Taken 28 days ago."
    assert check.no_change() == ScreeningCheck(latest.id, ScreeningOutcome.NO_CHANGE)


def test_a_screening_past_the_clinic_limit_needs_a_full_one():
    screening = make_screening("c", date=date(2026, 11, 1))
    at_limit = _check([screening], max_days=30)
    past = _check([screening], max_days=29)
    assert at_limit is not None and not at_limit.needs_full
    assert past is not None and past.needs_full
    assert past.full_needed_text == (
        "The screening of 1 Nov 2026 is 30 days old, over the clinic's limit of 29 days: "
        "take a full screening with the client before this session.")


def test_flagged_answers_read_as_the_questionnaire_words_them():
    screening = make_screening("c", date=date(2026, 11, 3))
    screening.answers |= {"keloid_history": True, "retinoids_stopped": False}
    check = _check([screening])
    assert check is not None
    assert check.flagged == ["Topical retinoids stopped ahead of treatment: no",
                             "History of keloid scarring"]
    assert _check([make_screening("c", date=date(2026, 11, 3))]).flagged == []


def test_time_based_reminders_carry_the_screening_answers_and_the_clinic_weeks():
    screening = make_screening("c", date=date(2026, 11, 3))
    screening.answers |= {"pregnant": True, "recent_tan_or_sunburn": NOT_APPLICABLE}
    del screening.answers["injectables_recent"]   # a screening from before the question
    check = _check([screening], weeks=3)
    assert check is not None
    assert check.reminders == [
        "Isotretinoin in the last 6 months: No at the screening",
        "Injectables (filler or toxin) in the area in the last 3 weeks: not asked at the "
        "screening",
        "A recent tan or sunburn in the area: Not applicable at the screening",
        "Pregnant: Yes at the screening",
    ]
    one = _check([screening], weeks=1)
    assert one is not None and "in the last 1 week:" in one.reminders[1]


def test_the_recorded_check_reads_in_plain_words():
    first = make_screening("c", date=date(2026, 11, 3))
    new = make_screening("c", date=date(2026, 12, 1))
    assert check_text(ScreeningCheck(first.id, ScreeningOutcome.NO_CHANGE), [first, new]) == \
        "Screening of 3 Nov 2026 re-confirmed: no change"
    assert check_text(updated(new), [first, new]) == \
        "Screening updated at the visit: new screening of 1 Dec 2026"
    assert check_text(None, [first]) == ""
