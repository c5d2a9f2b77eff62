"""The clinical records as plain dataclasses: what a client, a screening and a session hold.

Nothing here knows about Qt, SQL or JSON. Times are naive local wall-clock times, as the
practitioner reads them off the treatment-room clock; dates are plain dates; money is Decimal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Literal

from needledesk.domain.text import compose_acknowledgement, read_acknowledgement


def new_id() -> str:
    """A fresh text UUID: records made on two PCs can later be merged without key clashes."""
    return str(uuid.uuid4())


class DeviceType(StrEnum):
    PEN = "pen"
    ROLLER = "roller"


class Observed(StrEnum):
    """When a reaction was seen."""

    IMMEDIATE = "immediate"
    NEXT_DAY = "next_day"
    FOLLOW_UP = "follow_up"
    NEXT_VISIT = "next_visit"


#: The screening questionnaire, in the order it is asked (DOMAIN.md, "Who it is for").
#: Every answer is a yes/no; for all but one, "yes" is the flag.
SCREENING_QUESTIONS: dict[str, str] = {
    "pregnant": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "active_acne_or_infection": "Active acne or infection at the site",
    "eczema_or_psoriasis_at_site": "Eczema or psoriasis at the site",
    "open_wounds_or_cold_sores": "Open wounds or cold sores in the area",
    "isotretinoin_last_6_months": "Isotretinoin in the last 6 months",
    "blood_thinners_or_nsaids": "Blood thinners, ibuprofen or other NSAIDs",
    "retinoids_stopped": "Topical retinoids stopped ahead of treatment",
    "keloid_history": "History of keloid scarring",
    "anaesthetic_allergy": "Allergy to the topical anaesthetic",
    "injectables_recent": "Injectables (filler or toxin) in the area recently",
    "recent_tan_or_sunburn": "A recent tan or sunburn in the area",
}

#: The answer that raises a flag, per question ("retinoids stopped: no" is the risky one).
FLAGGED_ANSWER: dict[str, bool] = {key: True for key in SCREENING_QUESTIONS} | {
    "retinoids_stopped": False
}

#: The answer "not applicable", stored and exchanged beside true (yes), false (no) and null
#: (not asked). Records and files from before it never carry it, so their answers, and the
#: seals over them, are unchanged.
NOT_APPLICABLE: Final = "not_applicable"

#: A screening answer: True (yes), False (no), None (not asked) or NOT_APPLICABLE.
Answer = bool | Literal["not_applicable"] | None

#: The questions that may be answered "not applicable": those whose safe answer assumes
#: something the client may never have done, so a truthful "no" would be a false flag
#: ("Topical retinoids stopped ahead of treatment" for a client who never used retinoids).
#: Every other question flags "yes", and "no" is true of anyone it does not concern (a client
#: who takes no blood thinners, has never been pregnant, has no keloid history).
NOT_APPLICABLE_ALLOWED: frozenset[str] = frozenset({"retinoids_stopped"})

#: How each answer reads on screen and in print.
ANSWER_TEXT: dict[Answer, str] = {True: "Yes", False: "No", NOT_APPLICABLE: "Not applicable",
                                  None: "Not asked"}

REACTION_KINDS: tuple[str, ...] = (
    "erythema",
    "oedema",
    "pinpoint bleeding",
    "bruising",
    "irritation/itch",
    "soreness",
    "dryness/flaking",
    "acne flare",
    "pigmentation change",
    "infection",
    "allergic reaction",
    "other",
)

#: Concerns offered when recording a client (DOMAIN.md, "Who it is for"); any text is kept.
COMMON_CONCERNS: tuple[str, ...] = (
    "fine lines and wrinkles",
    "acne scars",
    "other scars",
    "enlarged pores",
    "active-acne aftermath",
    "sun spots and age spots",
    "stretch marks",
    "uneven tone and texture",
)

SEVERITY_LABELS: dict[int, str] = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}


@dataclass
class Client:
    first_name: str
    last_name: str
    id: str = field(default_factory=new_id)
    date_of_birth: date | None = None
    phone: str | None = None
    email: str | None = None
    fitzpatrick: int | None = None
    concerns: list[str] = field(default_factory=list)
    notes: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Course:
    """A planned series of sessions for one concern."""

    client_id: str
    concern: str
    planned_sessions: int
    interval_weeks: int
    started_on: date
    id: str = field(default_factory=new_id)
    notes: str = ""
    #: The areas the course is planned to treat (e.g. "cheeks", "forehead"); may be empty.
    areas_planned: list[str] = field(default_factory=list)
    #: Set when the course was ended before its planned sessions were done, with the reason.
    ended_on: date | None = None
    end_reason: str = ""

    @property
    def ended(self) -> bool:
        return self.ended_on is not None


@dataclass
class Screening:
    """The contraindication questionnaire and consent, taken on one date."""

    client_id: str
    date: date
    answers: dict[str, Answer] = field(default_factory=dict)
    consent_signed: bool = False
    id: str = field(default_factory=new_id)
    notes: str = ""

    @property
    def flagged(self) -> list[str]:
        """The questions whose answer is the risky one, in questionnaire order. Only a yes or
        a no can be; "not applicable" and "not asked" never are."""
        return [
            key
            for key in SCREENING_QUESTIONS
            if isinstance(self.answers.get(key), bool)
            and self.answers.get(key) == FLAGGED_ANSWER[key]
        ]

    @property
    def not_applicable(self) -> list[str]:
        """The questions answered "not applicable", in questionnaire order."""
        return [key for key in SCREENING_QUESTIONS if self.answers.get(key) == NOT_APPLICABLE]


class ProductKind(StrEnum):
    """What a catalogue product is used as on a session."""

    SERUM = "serum"
    ANAESTHETIC = "anaesthetic"
    CARTRIDGE = "cartridge"


@dataclass
class Product:
    """A catalogue entry: a serum, topical anaesthetic or needle cartridge the clinic buys."""

    name: str
    kind: ProductKind
    maker: str = ""
    id: str = field(default_factory=new_id)
    notes: str = ""
    #: No longer bought: kept for the records that name it, no longer offered.
    retired: bool = False


@dataclass
class Lot:
    """One delivered lot (batch) of a catalogue product, with its expiry date."""

    product_id: str
    lot: str
    expires_on: date | None = None
    id: str = field(default_factory=new_id)
    received_on: date | None = None
    notes: str = ""


@dataclass
class Device:
    type: DeviceType = DeviceType.PEN
    model: str | None = None
    cartridge: str | None = None
    cartridge_lot: str | None = None
    #: The catalogue lot the cartridge lot was picked from (None: typed, or none).
    cartridge_lot_id: str | None = None


@dataclass
class Anaesthetic:
    product: str
    applied_at: datetime
    removed_at: datetime | None = None
    lot: str | None = None
    #: The catalogue lot `lot` was picked from (None: typed, or none).
    lot_id: str | None = None

    @property
    def contact_minutes(self) -> int | None:
        """Whole minutes the cream was on the skin, once it has been removed."""
        if self.removed_at is None:
            return None
        return int((self.removed_at - self.applied_at).total_seconds() // 60)


@dataclass
class TreatedArea:
    area: str
    depth_mm: float
    passes: int | None = None
    endpoint: str | None = None
    notes: str = ""
    #: The face-chart zone the area was treated as (`domain.face_chart.ZONES`; None: an
    #: area without a zone, or recorded before the chart). Kept with the row, so an area the
    #: clinic later renames keeps the zone it was drawn in.
    zone: str | None = None


@dataclass
class Serum:
    product: str
    lot: str | None = None
    #: The catalogue lot `lot` was picked from (None: typed, or none). The product and lot
    #: text stay exactly as recorded whatever the catalogue later says.
    lot_id: str | None = None


class ScreeningOutcome(StrEnum):
    """What the practitioner answered at the start of a session to "anything changed since
    the screening?"."""

    NO_CHANGE = "no_change"
    UPDATED = "updated"


@dataclass
class ScreeningCheck:
    """The screening re-confirmed at a visit: which one, and whether it was unchanged or a
    new screening was taken (then `screening_id` is the new one)."""

    screening_id: str
    outcome: ScreeningOutcome


@dataclass
class Reaction:
    kind: str
    severity: int
    observed: Observed = Observed.IMMEDIATE
    notes: str = ""


@dataclass
class Fee:
    amount: Decimal
    currency: str


@dataclass(eq=False)
class AcknowledgedWarning:
    """A guideline the practitioner was warned about and chose to proceed past: the
    warning's `code`, who, when, and the reason they gave (may be empty).

    Stored and exchanged as one text, `warning` ("code — reason" or "code"); a text given as
    the code alone is read back into its code and reason. Two acknowledgements are equal
    when their texts, names and times are."""

    code: str
    by: str
    at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.reason:
            self.code, self.reason = read_acknowledgement(self.code)

    @property
    def warning(self) -> str:
        return compose_acknowledgement(self.code, self.reason)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AcknowledgedWarning):
            return NotImplemented
        return (self.warning, self.by, self.at) == (other.warning, other.by, other.at)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the other records


@dataclass
class Amendment:
    """A correction to a signed session: who, when, why, and each field's old and new value."""

    at: datetime
    by: str
    reason: str
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class Session:
    client_id: str
    started_at: datetime
    practitioner: str
    areas: list[TreatedArea]
    id: str = field(default_factory=new_id)
    course_id: str | None = None
    device: Device = field(default_factory=Device)
    anaesthetic: Anaesthetic | None = None
    serums: list[Serum] = field(default_factory=list)
    combined_with: list[str] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    aftercare: list[str] = field(default_factory=list)
    fee: Fee | None = None
    notes: str = ""
    signed_at: datetime | None = None
    acknowledged_warnings: list[AcknowledgedWarning] = field(default_factory=list)
    amendments: list[Amendment] = field(default_factory=list)
    #: The screening confirmed at the start of this session (None: not asked, as in every
    #: session recorded before the question existed).
    screening_check: ScreeningCheck | None = None

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def deepest_mm(self) -> float | None:
        return max((a.depth_mm for a in self.areas), default=None)


class ConsentKind(StrEnum):
    """What a consent form covers."""

    TREATMENT = "treatment"
    PHOTO = "photo"


class ConsentMethod(StrEnum):
    """How a consent was given: signed in the window, or on a printed form."""

    ON_SCREEN = "on_screen"
    ON_PAPER = "on_paper"


#: The uses a photo consent names, each a statement the client may tick or leave (the key
#: of its statement in the photo consent form).
PHOTO_USES: dict[str, str] = {
    "photo_use_record": "Kept in my treatment record",
    "photo_use_shown": "Shown to me to compare results",
    "photo_use_teaching": "Used for teaching other practitioners, without my name",
    "photo_use_marketing": "Used in the clinic's marketing",
}


@dataclass(frozen=True)
class ConsentStatement:
    """One statement of a consent form the client ticks; a `required` one must be ticked for
    the form to be signed (a photo use need not be)."""

    key: str
    text: str
    required: bool = True


@dataclass
class ConsentTemplate:
    """One version of a consent form, as the clinic keeps it in its settings. A version is
    never changed once stored: editing a form stores the next version."""

    kind: ConsentKind
    version: int
    title: str
    body: str
    statements: list[ConsentStatement] = field(default_factory=list)
    id: str = field(default_factory=new_id)
    created_at: datetime | None = None
    created_by: str = ""


@dataclass(frozen=True)
class StrokePoint:
    """One sampled point of a signature: x and y in the pad's units (0..width, 0..height),
    the pen's pressure (0..1; 1.0 where the device reports none: a mouse or finger) and
    milliseconds since the stroke began."""

    x: float
    y: float
    pressure: float = 1.0
    t_ms: int = 0


@dataclass
class Signature:
    """A signature as drawn: its strokes (vector, replayable at any size) on a pad of
    `width` x `height`, and the picture of it as the signer saw it (PNG bytes)."""

    strokes: list[list[StrokePoint]]
    width: float
    height: float
    image_png: bytes = b""

    @property
    def empty(self) -> bool:
        return not any(self.strokes)


@dataclass
class Consent:
    """A consent given by a client: the form's text exactly as it was signed (its title,
    body and statements copied from the template version), the statements ticked, both
    signatures, and when. Locked once stored: it changes by a new consent, never by an
    edit.

    `method` ON_PAPER: signed on a printed form and recorded here (no signatures); a consent
    ticked on a screening before consents were kept is one of these (`carried_from`)."""

    client_id: str
    kind: ConsentKind
    signed_at: datetime
    method: ConsentMethod
    practitioner: str
    title: str
    body: str = ""
    statements: list[ConsentStatement] = field(default_factory=list)
    #: statement key -> ticked; every statement of the form has an answer.
    answers: dict[str, bool] = field(default_factory=dict)
    template_id: str | None = None
    template_version: int | None = None
    client_signature: Signature | None = None
    practitioner_signature: Signature | None = None
    id: str = field(default_factory=new_id)
    notes: str = ""
    #: The screening whose "consent signed" tick this consent stands for (not stored: made
    #: from the screening each time it is read).
    carried_from: str | None = None

    @property
    def photo_uses(self) -> list[str]:
        """The photo uses consented to (keys of `PHOTO_USES`), in their order."""
        if self.kind != ConsentKind.PHOTO:
            return []
        return [key for key in PHOTO_USES if self.answers.get(key)]


class PhotoView(StrEnum):
    """The standard views of a before-and-after photo (the same view, session after
    session, is what is compared), and a close-up of one spot with a free label."""

    FRONT = "front"
    LEFT_45 = "left_45"
    RIGHT_45 = "right_45"
    LEFT_PROFILE = "left_profile"
    RIGHT_PROFILE = "right_profile"
    CLOSE_UP = "close_up"


class PhotoSource(StrEnum):
    """How a photo came in: a file chosen or dropped, the watched import folder, the
    camera, or an exchange file from another NeedleDesk."""

    FILE = "file"
    FOLDER = "folder"
    CAMERA = "camera"
    EXCHANGE = "exchange"


@dataclass
class Photo:
    """A photo taken at a session, stored as cleaned bytes (orientation applied, metadata
    removed) named by their SHA-256 (`sha256`, what `check` verifies). `original_sha256` is
    the hash of the file as it came in, so importing it again changes nothing.

    Removed only by amendment: `removed_at`, `removed_by`, `removed_reason` set, the image
    gone from the store, the record and its audit rows (with the hash) kept."""

    client_id: str
    session_id: str
    view: PhotoView
    sha256: str
    original_sha256: str
    media_type: str
    width: int
    height: int
    size: int
    added_at: datetime
    added_by: str
    label: str = ""
    taken_at: datetime | None = None
    source: PhotoSource = PhotoSource.FILE
    #: The photo consent in force when the photo was taken (its uses rule what may be done
    #: with the photo: always those of the client's latest photo consent).
    consent_id: str | None = None
    removed_at: datetime | None = None
    removed_by: str = ""
    removed_reason: str = ""
    id: str = field(default_factory=new_id)

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


@dataclass
class ClientRecord:
    """A client with everything recorded for them: the unit of export and import."""

    client: Client
    courses: list[Course] = field(default_factory=list)
    screenings: list[Screening] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    #: Consents kept in NeedleDesk (not the ones carried from screenings' ticks).
    consents: list[Consent] = field(default_factory=list)
    #: Photos of the sessions (not those removed by amendment); their bytes travel beside
    #: the record (the exchange zip), never inside it.
    photos: list[Photo] = field(default_factory=list)
