"""The consent forms NeedleDesk ships with: a treatment consent for microneedling and a
photo consent naming each use. A clinic edits them in its settings (each edit stores a new
version); until it stores one, these are offered, and the first consent signed under one
stores it as version 1.
"""

from __future__ import annotations

from datetime import datetime

from needledesk.domain.model import (
    PHOTO_USES,
    ConsentKind,
    ConsentStatement,
    ConsentTemplate,
)

TREATMENT_TITLE = "Consent to microneedling treatment"
TREATMENT_BODY = """\
Microneedling (collagen induction therapy) uses a pen or roller with fine needles to make
small, controlled punctures in the skin. The depth is chosen for each area of the face or
body. A numbing cream may be applied first.

Usual effects. Redness, tightness, swelling, mild soreness and sensitivity, pinpoint
bleeding during the treatment, and dryness or flaking over the following days. These
usually fade within hours and are largely gone in one to three days.

Risks. Although uncommon, these can happen: infection; a change in skin colour (darker or
lighter patches), more likely with darker skin types; scarring; bruising; an acne flare; a
cold sore outbreak in people who get them; an allergic reaction to the numbing cream or a
serum.

Who should not be treated. People who are pregnant; who have active acne, infection,
eczema or psoriasis, open wounds or cold sores in the area; who took isotretinoin in the
last six months; who form keloid scars; who have a bleeding disorder or take blood-thinning
medicines without their doctor's agreement. I have told the practitioner about my health,
medicines and skin conditions truthfully, and will tell them of any change before each
session.

Aftercare. For the first days: no make-up for at least 24 hours, no sweating, exercise,
sauna or swimming for 48 hours, no sun exposure and a broad-spectrum sunscreen every day, a
gentle cleanser, no active ingredients (retinoids, acids) until the practitioner says so.
I will contact the clinic if I notice signs of infection or anything that worries me.

Results. Results build gradually over six to eight weeks and usually need a course of
three to five sessions several weeks apart. No particular result can be guaranteed."""

TREATMENT_STATEMENTS: tuple[ConsentStatement, ...] = (
    ConsentStatement("read_and_understood",
                     "I have read this form and had the chance to ask questions, which were "
                     "answered to my satisfaction."),
    ConsentStatement("effects_and_risks",
                     "I understand the usual effects and the risks of microneedling."),
    ConsentStatement("health_disclosed",
                     "I have told the practitioner about my health, medicines and skin "
                     "conditions, and will tell them of any change."),
    ConsentStatement("aftercare",
                     "I will follow the aftercare I am given."),
    ConsentStatement("several_sessions",
                     "I understand that results take several sessions and cannot be "
                     "guaranteed."),
    ConsentStatement("agree_to_treatment",
                     "I agree to be treated with microneedling."),
)

PHOTO_TITLE = "Consent to clinical photographs"
PHOTO_BODY = """\
The clinic would like to take photographs of the treated areas before and after your
treatments, under the same light and from the same angles each time, so that you and the
practitioner can see how your skin responds.

Photographs are health records. They are kept on the clinic's own computers, never sent
to an online service, and location and camera details are removed from them.

Tick each use you agree to. You may agree to some and not others, and you may withdraw
your consent for any use at any time by telling the clinic; photographs already published
cannot always be recalled. Refusing has no effect on your treatment."""

PHOTO_STATEMENTS: tuple[ConsentStatement, ...] = tuple(
    ConsentStatement(key, text, required=False) for key, text in PHOTO_USES.items())


def default_template(kind: ConsentKind, *, at: datetime | None = None, by: str = ""
                     ) -> ConsentTemplate:
    """The form shipped with the program for `kind`, as version 1 (a fresh id each call:
    stored only when a consent is signed under it or the clinic saves it)."""
    if kind == ConsentKind.PHOTO:
        return ConsentTemplate(kind, 1, PHOTO_TITLE, PHOTO_BODY, list(PHOTO_STATEMENTS),
                               created_at=at, created_by=by)
    return ConsentTemplate(kind, 1, TREATMENT_TITLE, TREATMENT_BODY,
                           list(TREATMENT_STATEMENTS), created_at=at, created_by=by)


def paragraphs(body: str) -> list[str]:
    """The form's text as paragraphs (a blank line between them; lines inside one joined),
    for the window and for print alike."""
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        text = " ".join(block.split())
        if text:
            found.append(text)
    return found
