"""A client's phone and email, checked leniently: any way people write a number or an
address passes, obvious garbage ("call me maybe", "sofia@") does not.

Applied where a phone or an email is entered or changed (the client dialog, and
`Repository.add_client` / `update_client` for a value that changed), not to what is already
stored nor to an exchange file's records: those were accepted when written and still load
and import as they are.

Messages name no field: the window puts the field's label first (`labels.problem_text`:
"Phone: “call me maybe” is not a phone number: …").
"""

from __future__ import annotations

import re

from needledesk.domain.model import Client
from needledesk.domain.rules import Problem
from needledesk.domain.text import digits

#: How many digits a phone number holds, its country code included (ITU E.164: at most 15);
#: short numbers of a few digits (an internal extension alone) are refused as incomplete.
PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 5, 15
#: What a number may be written with: digits, spaces, + first, ( ) - . / separators.
_PHONE = re.compile(r"\+?[0-9 ()\-./\u00a0]+")
#: An extension after the number: "ext 12", "ext. 12", "x12", "#12".
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*([0-9]{1,6})\s*$", re.IGNORECASE)
#: name@domain.tld without spaces: the local part, then a domain with a dot in it.
_EMAIL = re.compile(r"[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+")
PHONE_HINT = ("use digits, spaces, + ( ) - and an extension such as “ext 12”, "
              f"{PHONE_DIGITS_MIN} to {PHONE_DIGITS_MAX} digits")


def phone_problems(phone: str | None) -> list[Problem]:
    """What is wrong with a phone number as typed ([] for a blank one)."""
    text = (phone or "").strip()
    if not text:
        return []
    number = _EXTENSION.sub("", text)
    if not _PHONE.fullmatch(number):
        return [Problem("phone", f"“{text}” is not a phone number: {PHONE_HINT}")]
    count = len(digits(number))
    if not PHONE_DIGITS_MIN <= count <= PHONE_DIGITS_MAX:
        return [Problem("phone", f"“{text}” has {count} digit{'s' * (count != 1)}; "
                                 f"a phone number has {PHONE_DIGITS_MIN} to "
                                 f"{PHONE_DIGITS_MAX}")]
    return []


def email_problems(email: str | None) -> list[Problem]:
    """What is wrong with an email address as typed ([] for a blank one)."""
    text = (email or "").strip()
    if not text:
        return []
    if not _EMAIL.fullmatch(text):
        return [Problem("email", f"“{text}” is not an email address: it needs a name, "
                                 "@ and a domain with a dot, such as ana@example.org")]
    return []


def contact_problems(client: Client, before: Client | None = None) -> list[Problem]:
    """The phone's and email's problems, for the values entered or changed (`before`: the
    client as stored, whose unchanged values were accepted when they were written)."""
    problems = []
    if before is None or client.phone != before.phone:
        problems += phone_problems(client.phone)
    if before is None or client.email != before.email:
        problems += email_problems(client.email)
    return problems
