"""Valid records to start tests from; override any field by keyword."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from needledesk.domain.model import (
    SCREENING_QUESTIONS,
    Anaesthetic,
    Client,
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentTemplate,
    Course,
    Device,
    DeviceType,
    Fee,
    Reaction,
    Screening,
    Serum,
    Session,
    Signature,
    StrokePoint,
    TreatedArea,
)

#: The smallest PNG there is (1 x 1, white): a signature's picture in tests.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c63f8ffff3f0005fe02fe0def46b80000000049454e44ae426082")


def make_client(**overrides) -> Client:
    fields = {"first_name": "Ana", "last_name": "López", "date_of_birth": date(1988, 3, 14),
              "phone": "+1 555 0100", "email": "ana@example.org", "fitzpatrick": 3,
              "concerns": ["acne scars"]}
    return Client(**(fields | overrides))


def make_screening(client_id: str, **overrides) -> Screening:
    answers = {key: False for key in SCREENING_QUESTIONS} | {"retinoids_stopped": True}
    fields = {"client_id": client_id, "date": date(2026, 11, 1), "answers": answers,
              "consent_signed": True}
    return Screening(**(fields | overrides))


def make_course(client_id: str, **overrides) -> Course:
    fields = {"client_id": client_id, "concern": "acne scars", "planned_sessions": 4,
              "interval_weeks": 6, "started_on": date(2026, 9, 10)}
    return Course(**(fields | overrides))


def make_session(client_id: str, **overrides) -> Session:
    fields = {
        "client_id": client_id,
        "started_at": datetime(2026, 11, 20, 10, 30),
        "practitioner": "Jane Smith",
        "device": Device(DeviceType.PEN, "Dermapen 4", "16-pin", "L2311A"),
        "anaesthetic": Anaesthetic("LMX4", datetime(2026, 11, 20, 9, 45),
                                   datetime(2026, 11, 20, 10, 25)),
        "areas": [TreatedArea("cheeks", 1.5, 3, "pinpoint bleeding"),
                  TreatedArea("forehead", 0.5, 2, "even erythema")],
        "serums": [Serum("Hyaluronic acid 1%", "HA-0923")],
        "combined_with": ["chemical peel"],
        "reactions": [Reaction("erythema", 2)],
        "aftercare": ["SPF 50 sunscreen", "Gentle cleanser"],
        "fee": Fee(Decimal("250.00"), "USD"),
    }
    return Session(**(fields | overrides))


def make_signature(*strokes: list[tuple[float, float]], width: float = 300,
                   height: float = 100, image_png: bytes = TINY_PNG) -> Signature:
    """A drawn signature: each stroke a list of (x, y) points, 16 ms apart, full pressure
    (a short tick when no stroke is given)."""
    drawn = strokes or ([(20, 60), (60, 30), (110, 70), (160, 40)],)
    return Signature([[StrokePoint(x, y, 1.0, 16 * i) for i, (x, y) in enumerate(stroke)]
                      for stroke in drawn], width, height, image_png)


def make_consent(client_id: str, form: ConsentTemplate | None = None, **overrides) -> Consent:
    """A consent signed on screen under `form` (the shipped treatment form when None), its
    text copied from it, every statement ticked, both signatures drawn."""
    from needledesk.domain.consent_forms import default_template

    form = form or default_template(ConsentKind.TREATMENT)
    fields = {"client_id": client_id, "kind": form.kind,
              "signed_at": datetime(2026, 11, 3, 10, 42), "method": ConsentMethod.ON_SCREEN,
              "practitioner": "Jane Smith", "title": form.title, "body": form.body,
              "statements": list(form.statements),
              "answers": {s.key: True for s in form.statements}, "template_id": form.id,
              "template_version": form.version, "client_signature": make_signature(),
              "practitioner_signature": make_signature([(10, 50), (200, 52)])}
    return Consent(**(fields | overrides))


def undo_photos_step(conn) -> None:
    """Take a file of today's schema back to before step 10 (`photos`), as an older
    NeedleDesk left it: the photos table, its indexes and the step's migration record gone.
    (The file must hold no photo.)"""
    from needledesk.store import schema

    step = schema.STEP_NAMES.index("0010_photos")
    with conn:
        for index in ("photos_by_session", "photos_by_client", "photos_by_hash"):
            conn.execute(f"DROP INDEX {index}")
        conn.execute("DROP TABLE photos")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [schema.STEP_NAMES[step]])
        conn.execute(f"PRAGMA user_version = {step}")


def undo_consents_step(conn) -> None:
    """Take a file of today's schema back to before step 9 (`consents_and_zones`), as an
    older NeedleDesk left it: step 10 undone first (`undo_photos_step`), then the consent
    tables, their index, the areas' zone column and the step's migration record gone. (The
    file must hold no photo, consent, form version or zone.)"""
    from needledesk.store import schema

    undo_photos_step(conn)
    step = schema.STEP_NAMES.index("0009_consents_and_zones")
    with conn:
        conn.execute("DROP INDEX consents_by_client")
        conn.execute("DROP TABLE consents")
        conn.execute("DROP TABLE consent_templates")
        conn.execute("ALTER TABLE treated_areas DROP COLUMN zone")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [schema.STEP_NAMES[step]])
        conn.execute(f"PRAGMA user_version = {step}")


def undo_products_step(conn) -> None:
    """Take a file of today's schema back to before step 8 (`products_and_lots`), as an
    older NeedleDesk left it: step 9 undone first (`undo_consents_step`), then step 8's
    tables, index, columns and migration record gone. (The file must hold no consent, zone,
    product, lot, or session value in the steps' columns.)"""
    from needledesk.store import schema

    if conn.execute("PRAGMA user_version").fetchone()[0] > schema.STEP_NAMES.index(
            "0008_products_and_lots") + 1:
        undo_consents_step(conn)
    step = schema.STEP_NAMES.index("0008_products_and_lots")
    with conn:
        conn.execute("DROP TABLE lots")
        conn.execute("DROP TABLE products")
        conn.execute("DROP INDEX sessions_by_course")
        for column in ("anaesthetic_lot", "anaesthetic_lot_id", "cartridge_lot_id",
                       "screening_id", "screening_check"):
            conn.execute(f"ALTER TABLE sessions DROP COLUMN {column}")
        conn.execute("ALTER TABLE serums DROP COLUMN lot_id")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [schema.STEP_NAMES[step]])
        conn.execute(f"PRAGMA user_version = {step}")
