"""Render the README's image of the course record's before-and-after page:
`python scripts/render_photo_pages.py`.

The clinic of `render_reports.py` (one client four sessions into a course of five), with a
photo consent signed on paper on the course's first day and the front and both 45° views
photographed at every session (`needledesk.demo_photos`: synthetic faces whose acne marks
fade session by session, 1200 x 1600, with a camera's EXIF that the import strips). The
course record is built through the same code as `needledesk export course`, and its first
before-and-after page turned into docs/screenshots/course-before-after.png by poppler's
`pdftoppm` at 80 dpi (the other course record images' size). Needs no display.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader

from needledesk.demo_photos import face_photo
from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import Consent, ConsentKind, ConsentMethod, PhotoSource, PhotoView
from needledesk.domain.photos import USE_RECORD, USE_SHOWN
from needledesk.reports.build import course_record_pdf
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_reports import OUT, TODAY, fill, to_png  # noqa: E402

VIEWS = (PhotoView.FRONT, PhotoView.LEFT_45, PhotoView.RIGHT_45)


def photograph(repo: Repository, client_id: str) -> None:
    sessions = sorted(repo.sessions(client_id), key=lambda s: s.started_at)
    form = repo.current_template(ConsentKind.PHOTO) or default_template(ConsentKind.PHOTO)
    first = sessions[0].started_at
    repo.add_consent(Consent(
        client_id=client_id, kind=form.kind, signed_at=first - timedelta(minutes=40),
        method=ConsentMethod.ON_PAPER, practitioner=sessions[0].practitioner,
        title=form.title, body=form.body, statements=list(form.statements),
        answers={s.key: s.required or s.key in (USE_RECORD, USE_SHOWN)
                 for s in form.statements},
        template_id=form.id, template_version=form.version), by="Jane Smith", template=form,
        today=TODAY)
    for number, session in enumerate(sessions, start=1):
        taken = session.started_at - timedelta(minutes=30)
        for view in VIEWS:
            repo.add_photo(session.id, face_photo(str(view), session=number, seed=11,
                                                  taken=taken),
                           view=view, by="Jane Smith", source=PhotoSource.CAMERA,
                           name=f"{view}.jpg", now=taken + timedelta(minutes=1))


def main() -> int:
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) is needed to turn the PDF into a PNG", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="needledesk-photo-pages-"))
    repo = Repository(open_database(folder / "clinic.db"))
    client_id, _session_id = fill(repo)
    photograph(repo, client_id)
    record = folder / "course-record.pdf"
    record.write_bytes(course_record_pdf(repo, client_id, today=TODAY))
    repo.db.close()
    pages = [i for i, page in enumerate(PdfReader(record).pages, start=1)
             if "Before and after —" in page.extract_text()]
    OUT.mkdir(parents=True, exist_ok=True)
    to_png(record, pages[0], OUT / "course-before-after.png")
    print(f"{OUT / 'course-before-after.png'} (page {pages[0]} of the record)")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
