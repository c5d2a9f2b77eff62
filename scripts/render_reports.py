"""Render the README's report images: `python scripts/render_reports.py`.

Builds a small clinic in a temporary database (clinic "Lumen Skin Studio" with a drawn logo,
one client with a five-session course four sessions in, notes, a guideline acknowledgement
and an amendment), writes the session summary and the course record as PDFs through the same
code as `needledesk export`, and turns them into PNGs with poppler's `pdftoppm` at 80 dpi:
docs/screenshots/summary.png and course-record-1.png, -2, -3. Then the summaries of two more
clients, one with an Arabic name (shaped by HarfBuzz, read from the right) and one with a
Chinese name (set in a font of this PC: Debian's fonts-droid-fallback), at 60 dpi:
summary-arabic.png and summary-chinese.png. Needs no display.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from needledesk.domain.model import (
    SCREENING_QUESTIONS,
    AcknowledgedWarning,
    Anaesthetic,
    Client,
    Course,
    Device,
    DeviceType,
    Fee,
    Observed,
    Reaction,
    Screening,
    Serum,
    Session,
    TreatedArea,
)
from needledesk.reports.build import course_record_pdf, session_summary_pdf
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TODAY = date(2026, 10, 8)
COURSE_PAGES = 3


def logo_png() -> bytes:
    """The clinic's mark: a teal disc with a grid of fine dots, like needle points."""
    from PIL import Image, ImageDraw

    scale = 4  # drawn large, then scaled down for smooth edges
    size = 120 * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre, r = size / 2, size / 2 - 2 * scale
    draw.ellipse((centre - r, centre - r, centre + r, centre + r), fill=(30, 90, 102, 255))
    ring = r - 9 * scale
    draw.ellipse((centre - ring, centre - ring, centre + ring, centre + ring),
                 outline=(209, 121, 59, 255), width=3 * scale)
    step = 12 * scale
    for ix in range(-4, 5):
        for iy in range(-4, 5):
            x, y = centre + ix * step, centre + iy * step
            if (x - centre) ** 2 + (y - centre) ** 2 < (ring - 10 * scale) ** 2:
                dot = (2.4 if (ix + iy) % 2 else 3.6) * scale
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=(255, 255, 255, 235))
    image = image.resize((size // scale, size // scale), Image.LANCZOS)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def fill(repo: Repository) -> tuple[str, str]:
    """The clinic and its client; returns (client id, id of the session to hand out)."""
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    settings.address = "14 Harbour Street, Bristol BS1 4QA"
    settings.phone = "+44 117 555 0100"
    settings.logo = logo_png()
    settings.practitioners = ["Jane Smith", "Lucía Fernández"]
    repo.save_settings(settings, by="Jane Smith")

    client = repo.add_client(Client(
        "Camille", "Durand-Nguyễn", date_of_birth=date(1990, 5, 21), phone="+44 7700 900123",
        email="camille.durand@example.org", fitzpatrick=3,
        concerns=["acne scars", "enlarged pores"],
        notes="Prefers morning appointments. Sensitive to fragrance in skincare."),
        by="Jane Smith")
    course = repo.add_course(Course(client.id, "acne scars", 5, 6, date(2026, 5, 28),
                                    notes="Rolling and boxcar scars on both cheeks."),
                            by="Jane Smith")
    answers = dict.fromkeys(SCREENING_QUESTIONS, False) | {"retinoids_stopped": True}
    repo.add_screening(Screening(client.id, date(2026, 5, 28), answers, True,
                                 notes="Stopped tretinoin 10 days ago."), by="Jane Smith")

    plan = [
        # (depth cheeks, depth forehead, chin?, practitioner, reactions, notes)
        (1.0, 0.5, None, "Jane Smith",
         [Reaction("erythema", 1), Reaction("pinpoint bleeding", 1)],
         "First session. Tolerated well; numbing adequate. Photos taken for comparison."),
        (1.25, 0.5, 1.0, "Lucía Fernández",
         [Reaction("erythema", 2), Reaction("oedema", 1, Observed.NEXT_DAY,
                                            "mild under the eyes, gone by day two")],
         "Scars on the left cheek softening. Added the chin for enlarged pores."),
        (1.5, 0.8, 1.0, "Jane Smith",
         [Reaction("erythema", 2), Reaction("dryness/flaking", 1, Observed.FOLLOW_UP,
                                            "around the chin for three days")],
         "Forehead taken a little deeper on the client's request, after discussing it."),
        (1.5, 0.75, 1.25, "Jane Smith",
         [Reaction("erythema", 2)],
         "Visible improvement in texture. Client very pleased; plans the last session "
         "before the holidays."),
    ]
    start = datetime(2026, 6, 4, 10, 0)
    ids = []
    for i, (cheeks, forehead, chin, practitioner, reactions, notes) in enumerate(plan):
        at = start + timedelta(weeks=6 * i)
        areas = [TreatedArea("cheeks", cheeks, 3, "pinpoint bleeding"),
                 TreatedArea("forehead", forehead, 2, "even erythema")]
        if chin is not None:
            areas.append(TreatedArea("chin", chin, 2, "even erythema"))
        lot = f"L26{i + 4:02d}A"
        session = Session(
            client.id, at, practitioner, areas, course_id=course.id,
            device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", lot),
            anaesthetic=Anaesthetic("LMX4", at - timedelta(minutes=60),
                                    at - timedelta(minutes=5)),
            serums=[Serum("Hyaluronic acid 1%", f"HA-{2306 + i * 6}"),
                    *([Serum("Growth factor serum", "GF-0817")] if i >= 2 else [])],
            reactions=reactions,
            aftercare=["SPF 50 sunscreen every day", "Gentle cleanser",
                       "No exercise, sweating, sauna or sun for 48 hours"],
            fee=Fee(Decimal("280.00"), "GBP"), notes=notes)
        if forehead > 0.75:
            session.acknowledged_warnings = [AcknowledgedWarning(
                f"depth: forehead {forehead:g} mm", practitioner, at - timedelta(minutes=2))]
        repo.save_draft(session, by=practitioner)
        repo.sign_session(session.id, at + timedelta(hours=1, minutes=5), by=practitioner)
        ids.append(session.id)

    # A correction after sign-off: the cartridge lot was mistyped in session 2.
    second = repo.get_session(ids[1])
    repo.amend_session(replace(second, device=replace(second.device, cartridge_lot="L2605B")),
                       by="Lucía Fernández", reason="cartridge lot mistyped; checked the box",
                       at=datetime(2026, 7, 17, 9, 12))
    return client.id, ids[-1]


def named_summary(repo: Repository, first: str, last: str, practitioner: str) -> str:
    """A client named in another script with one signed session; returns the session's id."""
    client = repo.add_client(Client(first, last, date_of_birth=date(1987, 3, 14),
                                    phone="+44 7700 900456", concerns=["fine lines"]),
                             by="Jane Smith")
    at = datetime(2026, 10, 1, 10, 0)
    session = Session(
        client.id, at, practitioner,
        [TreatedArea("cheeks", 1.0, 3, "even erythema"),
         TreatedArea("forehead", 0.5, 2, "even erythema")],
        device=Device(DeviceType.PEN, "Dermapen 4", "16-pin", "L2610A"),
        anaesthetic=Anaesthetic("LMX4", at - timedelta(minutes=55), at - timedelta(minutes=5)),
        serums=[Serum("Hyaluronic acid 1%", "HA-2412")],
        reactions=[Reaction("erythema", 1)],
        aftercare=["SPF 50 sunscreen every day", "Gentle cleanser"])
    repo.save_draft(session, by="Jane Smith")
    repo.sign_session(session.id, at + timedelta(hours=1), by="Jane Smith")
    return session.id


def to_png(pdf: Path, page: int, target: Path, dpi: int = 80) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(target.with_suffix(""))], check=True)


def main() -> int:
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) is needed to turn the PDFs into PNGs", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="needledesk-reports-"))
    repo = Repository(open_database(folder / "clinic.db"))
    client_id, session_id = fill(repo)
    summary = folder / "summary.pdf"
    record = folder / "course-record.pdf"
    summary.write_bytes(session_summary_pdf(repo, session_id, today=TODAY))
    record.write_bytes(course_record_pdf(repo, client_id, today=TODAY))
    named = {"arabic": named_summary(repo, "ليلى", "حداد", "سارة منصور"),
             "chinese": named_summary(repo, "静怡", "李", "Jane Smith")}
    for script, named_id in named.items():
        (folder / f"summary-{script}.pdf").write_bytes(
            session_summary_pdf(repo, named_id, today=TODAY))
    repo.db.close()

    OUT.mkdir(parents=True, exist_ok=True)
    to_png(summary, 1, OUT / "summary.png")
    for page in range(1, COURSE_PAGES + 1):
        to_png(record, page, OUT / f"course-record-{page}.png")
    for script in named:
        to_png(folder / f"summary-{script}.pdf", 1, OUT / f"summary-{script}.png", dpi=60)
    print(f"PDFs in {folder}; PNGs in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
