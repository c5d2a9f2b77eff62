"""What makes a consent form (a template version) and a consent sound, checked before either
is stored or imported: the form's text, the statements, the answers and the signatures."""

from __future__ import annotations

from datetime import date, datetime

from needledesk.domain.model import (
    PHOTO_USES,
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentStatement,
    ConsentTemplate,
    Signature,
)
from needledesk.domain.rules import Problem

TITLE_MAX = 200
BODY_MAX = 20_000
STATEMENT_MAX = 500
STATEMENTS_MAX = 30
#: A signature larger than this was not drawn by a hand (about ten minutes of drawing).
SIGNATURE_POINTS_MAX = 20_000
SIGNATURE_STROKES_MAX = 500
SIGNATURE_IMAGE_MAX = 2_000_000
PAD_MAX = 4000.0


def validate_template(template: ConsentTemplate) -> list[Problem]:
    """A consent form's version: a title, a text, statements with unique keys, and for a
    photo consent each photo use as a statement of its own."""
    problems: list[Problem] = []
    if template.kind not in tuple(ConsentKind):
        problems.append(Problem("kind", "must be treatment or photo"))
    if not isinstance(template.version, int) or isinstance(template.version, bool) \
            or not 1 <= template.version <= 100_000:
        problems.append(Problem("version", "must be a whole number from 1"))
    problems += _text_problems("title", template.title, TITLE_MAX, required=True)
    problems += _text_problems("body", template.body, BODY_MAX, required=True)
    problems += _statement_problems(template.statements)
    if template.kind == ConsentKind.TREATMENT and not any(s.required
                                                           for s in template.statements):
        problems.append(Problem("statements", "a treatment consent needs at least one "
                                "statement the client must tick"))
    if template.kind == ConsentKind.PHOTO:
        keys = {s.key for s in template.statements}
        missing = [text for key, text in PHOTO_USES.items() if key not in keys]
        if missing:
            problems.append(Problem("statements", "a photo consent names each use: missing "
                                    + "; ".join(missing)))
    return problems


def validate_consent(consent: Consent, today: date | None = None) -> list[Problem]:
    """A consent as it is stored: the form's text, an answer for every statement with every
    required one ticked, and for one signed on screen both signatures."""
    problems: list[Problem] = []
    if consent.kind not in tuple(ConsentKind):
        problems.append(Problem("kind", "must be treatment or photo"))
    if consent.method not in tuple(ConsentMethod):
        problems.append(Problem("method", "must be signed on screen or on paper"))
    if not isinstance(consent.signed_at, datetime):
        problems.append(Problem("signed_at", "must be a date and time"))
    elif today is not None and consent.signed_at.date() > today:
        problems.append(Problem("signed_at", "cannot be in the future"))
    problems += _text_problems("title", consent.title, TITLE_MAX, required=True)
    problems += _text_problems("body", consent.body, BODY_MAX,
                               required=consent.method == ConsentMethod.ON_SCREEN)
    problems += _text_problems("practitioner", consent.practitioner, TITLE_MAX,
                               required=consent.method == ConsentMethod.ON_SCREEN)
    problems += _text_problems("notes", consent.notes, BODY_MAX)
    problems += _statement_problems(consent.statements)
    keys = [s.key for s in consent.statements]
    for key, value in consent.answers.items():
        if key not in keys:
            problems.append(Problem(f"answers.{key}", f"“{_short(str(key))}” is not a "
                                    "statement of this form"))
        elif not isinstance(value, bool):
            problems.append(Problem(f"answers.{key}", f"“{_short(str(key))}” must be ticked "
                                    "or not"))
    for s in consent.statements:
        if s.required and consent.answers.get(s.key) is not True:
            problems.append(Problem(f"answers.{s.key}", f"“{_short(s.text)}” must be ticked "
                                    "to sign"))
    if consent.method == ConsentMethod.ON_SCREEN:
        for place, who, signature in (("client_signature", "the client",
                                       consent.client_signature),
                                      ("practitioner_signature", "the practitioner",
                                       consent.practitioner_signature)):
            if signature is None or signature.empty:
                problems.append(Problem(place, f"{who} has not signed"))
            else:
                problems += [p.under(place) for p in validate_signature(signature)]
    else:
        for place, signature in (("client_signature", consent.client_signature),
                                 ("practitioner_signature", consent.practitioner_signature)):
            if signature is not None:
                problems.append(Problem(place, "a consent signed on paper holds no signature "
                                        "drawn on screen"))
    return problems


def validate_signature(signature: Signature) -> list[Problem]:
    """Strokes inside the pad, with sane sizes: what a hand can draw."""
    problems: list[Problem] = []
    w, h = signature.width, signature.height
    if not (_number(w) and _number(h) and 0 < w <= PAD_MAX and 0 < h <= PAD_MAX):
        return [Problem("", f"the signature pad's size must be within 1–{PAD_MAX:g} points")]
    if len(signature.strokes) > SIGNATURE_STROKES_MAX:
        problems.append(Problem("strokes", f"more than {SIGNATURE_STROKES_MAX} strokes"))
    points = sum(len(s) for s in signature.strokes)
    if points > SIGNATURE_POINTS_MAX:
        problems.append(Problem("strokes", f"more than {SIGNATURE_POINTS_MAX:,} points"))
    outside = 0
    for stroke in signature.strokes:
        for p in stroke:
            if not (_number(p.x) and _number(p.y) and _number(p.pressure)
                    and -1 <= p.x <= w + 1 and -1 <= p.y <= h + 1
                    and 0 <= p.pressure <= 1 and isinstance(p.t_ms, int)
                    and 0 <= p.t_ms <= 3_600_000):
                outside += 1
    if outside:
        problems.append(Problem("strokes", f"has {outside:,} point(s) outside the pad or "
                                "with a pressure outside 0–1"))
    if len(signature.image_png) > SIGNATURE_IMAGE_MAX:
        problems.append(Problem("image", "the signature's picture is larger than 2 MB"))
    elif signature.image_png and not signature.image_png.startswith(b"\x89PNG\r\n\x1a\n"):
        problems.append(Problem("image", "the signature's picture is not a PNG image"))
    return problems


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and value == value and abs(value) != float("inf")


def _short(text: str, size: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def _text_problems(place: str, value: object, size: int, *, required: bool = False
                   ) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem(place, "must be text")]
    if required and not value.strip():
        return [Problem(place, "is required")]
    if len(value) > size:
        return [Problem(place, f"is longer than {size:,} characters")]
    return []


def _statement_problems(statements: list[ConsentStatement]) -> list[Problem]:
    problems: list[Problem] = []
    if len(statements) > STATEMENTS_MAX:
        return [Problem("statements", f"more than {STATEMENTS_MAX} statements")]
    seen: set[str] = set()
    for i, s in enumerate(statements):
        place = f"statements[{i}]"
        if not isinstance(s, ConsentStatement):
            problems.append(Problem(place, "must be a statement"))
            continue
        if not isinstance(s.key, str) or not s.key.strip() or len(s.key) > 64:
            problems.append(Problem(f"{place}.key", "is required (at most 64 characters)"))
        elif s.key in seen:
            problems.append(Problem(f"{place}.key", f"“{s.key}” is used twice"))
        seen.add(s.key if isinstance(s.key, str) else "")
        problems += _text_problems(f"{place}.text", s.text, STATEMENT_MAX, required=True)
    return problems
