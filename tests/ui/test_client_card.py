"""The client card fills itself without being told today's date (it defaults to today) instead
of failing on the age and the courses' due dates. A real SQLite file on disk."""

from __future__ import annotations

from datetime import date

from factories import make_client, make_course

from needledesk.settings import ClinicSettings
from needledesk.ui.client_card import ClientCard


def test_the_card_shows_a_client_without_being_given_today(qtbot, repo):
    client = make_client(date_of_birth=date(1990, 1, 1))
    repo.add_client(client, by="test")
    repo.add_course(make_course(client.id), by="test")
    card = ClientCard()
    qtbot.addWidget(card)
    card.show_client(client, repo, ClinicSettings())
    years = date.today().year - 1990 - ((date.today().month, date.today().day) < (1, 1))
    assert f"({years})" in card.details_label.text()
    assert card.course_label.text()
