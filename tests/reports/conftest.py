"""A clinic with one client, a four-session course and two sessions, on a real database; and
PDF text read back with pypdf."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from io import BytesIO

import pytest
from factories import make_client, make_course, make_screening, make_session
from pypdf import PdfReader

from needledesk.domain.model import (
    Anaesthetic,
    Device,
    DeviceType,
    Observed,
    Reaction,
    Serum,
    TreatedArea,
)
from needledesk.settings import ClinicSettings

TODAY = date(2026, 11, 21)


def png_logo() -> bytes:
    """A small two-colour PNG with transparency, made on the spot."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, 56, 56), fill=(30, 90, 102, 255))
    draw.rectangle((64, 20, 118, 40), fill=(209, 121, 59, 255))
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Clinic:
    repo: object
    client_id: str
    first_id: str
    second_id: str


@pytest.fixture
def clinic(repo) -> Clinic:
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    settings.address = "14 Harbour Street, Bristol BS1 4QA"
    settings.phone = "+44 117 555 0100"
    settings.logo = png_logo()
    repo.save_settings(settings, by="Jane Smith")

    client = repo.add_client(make_client(), by="Jane Smith")
    course = repo.add_course(make_course(client.id, planned_sessions=4, interval_weeks=6),
                             by="Jane Smith")
    repo.add_screening(make_screening(client.id, notes="No contraindications today."),
                       by="Jane Smith")

    first = make_session(
        client.id, course_id=course.id, started_at=datetime(2026, 10, 9, 10, 30),
        practitioner="Lucía Fernández",
        device=Device(DeviceType.PEN, "Dermapen 4", "12-pin", "L2309"),
        anaesthetic=Anaesthetic("EMLA 5%", datetime(2026, 10, 9, 9, 30),
                                datetime(2026, 10, 9, 10, 20)),
        areas=[TreatedArea("cheeks", 1.25, 3, "pinpoint bleeding"),
               TreatedArea("forehead", 0.5, 2, "even erythema", "kept shallow near brows")],
        serums=[Serum("Growth factor serum", "GF-0817")],
        reactions=[Reaction("oedema", 1, Observed.NEXT_DAY, "settled by day two")],
        aftercare=["SPF 50 sunscreen every day", "No exercise for 48 hours"],
        notes="First session of the course; tolerated well.")
    repo.save_draft(first, by="Jane Smith")
    repo.sign_session(first.id, datetime(2026, 10, 9, 11, 15), by="Jane Smith")
    corrected = replace(repo.get_session(first.id),
                        device=Device(DeviceType.PEN, "Dermapen 4", "12-pin", "L2309B"))
    repo.amend_session(corrected, by="Jane Smith", reason="lot number mistyped",
                       at=datetime(2026, 10, 10, 8, 40))

    second = make_session(
        client.id, course_id=course.id, started_at=datetime(2026, 11, 20, 10, 30),
        anaesthetic=Anaesthetic("LMX4", datetime(2026, 11, 20, 9, 30),
                                datetime(2026, 11, 20, 10, 25)),
        serums=[Serum("Hyaluronic acid 1%", "HA-0923"), Serum("Vitamin C serum", "VC-1142")],
        reactions=[Reaction("erythema", 2), Reaction("dryness/flaking", 1, Observed.FOLLOW_UP,
                                                     "around the chin")],
        aftercare=["SPF 50 sunscreen every day", "Gentle cleanser"],
        notes="Client asked about treating the neck next time.")
    repo.save_draft(second, by="Jane Smith")
    repo.sign_session(second.id, datetime(2026, 11, 20, 11, 10), by="Jane Smith")
    return Clinic(repo, client.id, first.id, second.id)


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text with runs of whitespace (line wraps included) made one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages]


@pytest.fixture
def read_pdf():
    return pages_text


@pytest.fixture
def settings() -> ClinicSettings:
    return ClinicSettings(clinic_name="Lumen Skin Studio", address="14 Harbour Street",
                          phone="+44 117 555 0100")


@pytest.fixture
def today() -> date:
    return TODAY
