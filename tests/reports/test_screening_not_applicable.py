"""Issue 13 item 7 in print: a "not applicable" answer reads so in the course record, and is
not among the flagged answers."""

from __future__ import annotations

from datetime import date

from factories import make_client, make_screening

from needledesk.domain.model import NOT_APPLICABLE
from needledesk.reports.course import render_course_record


def test_the_course_record_prints_not_applicable_in_words(read_pdf, settings, today):
    client = make_client()
    never_used = make_screening(client.id, date=date(2026, 9, 1))
    never_used.answers["retinoids_stopped"] = NOT_APPLICABLE
    still_using = make_screening(client.id, date=date(2026, 10, 1))
    still_using.answers["retinoids_stopped"] = False
    text = " ".join(read_pdf(render_course_record(client, [], [], [never_used, still_using],
                                                  settings, today=today)))
    # the screening of 1 Sep 2026: nothing flagged, the answer in words
    assert ("1 Sep 2026 none Topical retinoids stopped ahead of treatment: "
            "Not applicable") in text
    # the screening of 1 Oct 2026: the No is the flag it always was
    assert "1 Oct 2026 Topical retinoids stopped ahead of treatment" in text
    assert text.count("Not applicable") == 1
    assert NOT_APPLICABLE not in text
