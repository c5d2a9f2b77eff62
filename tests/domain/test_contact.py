"""domain.contact: phone and email checked leniently, garbage refused with a plain message."""

import pytest
from factories import make_client

from needledesk.domain.contact import contact_problems, email_problems, phone_problems


@pytest.mark.parametrize("phone", [
    "+44 7700 900123", "07700 900 123", "(555) 010-0100", "+1 555 0100", "555.010.0100",
    "+33 1 23 45 67 89", "07700 900123 ext 12", "020 7946 0018 x3", "", None,
])
def test_usual_phones_pass(phone):
    assert phone_problems(phone) == []


@pytest.mark.parametrize("email", ["ana@example.org", "a.b+c@mail.example.co.uk",
                                   "josé@correo.es", "", None])
def test_usual_emails_pass(email):
    assert email_problems(email) == []


def test_call_me_maybe_is_not_a_phone():
    (problem,) = phone_problems("call me maybe")
    assert problem.path == "phone"
    # The window puts the field's label first: "Phone: “call me maybe” is not …"
    assert problem.message.startswith("“call me maybe” is not a phone number")
    assert "5 to 15 digits" in problem.message


@pytest.mark.parametrize(("phone", "count"), [("123", 3), ("+44 7700 900123 4567 89", 18)])
def test_too_few_or_too_many_digits(phone, count):
    (problem,) = phone_problems(phone)
    assert f"has {count} digits; a phone number has 5 to 15" in problem.message


@pytest.mark.parametrize("email", ["sofia@", "sofia", "@example.org", "sofia@example",
                                   "so fia@example.org", "sofia@@example.org"])
def test_broken_emails_are_refused(email):
    (problem,) = email_problems(email)
    assert problem.path == "email"
    assert problem.message.startswith(f"“{email}” is not an email address")


def test_only_what_changed_is_checked():
    stored = make_client(phone="ask at reception", email="none")
    # A record accepted before the check keeps its values while other fields are edited...
    assert contact_problems(make_client(phone="ask at reception", email="none",
                                        notes="new"), stored) == []
    # ...and a value typed anew is checked.
    changed = make_client(phone="call me maybe", email="none")
    assert [p.path for p in contact_problems(changed, stored)] == ["phone"]
    assert [p.path for p in contact_problems(stored)] == ["phone", "email"]
