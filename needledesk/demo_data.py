"""The demo clinic's tables (`needledesk demo`): names by language, concerns and their areas,
devices, serums, anaesthetics, reactions, practitioners and how often things happen.

Only data and the small types that hold it; `needledesk.demo` draws from these with one
`random.Random(seed)`. Changing a table or the order of its entries changes the records a seed
gives (tests/test_demo.py pins them).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from datetime import date
from itertools import accumulate, combinations

from needledesk.domain.guidelines import DEFAULT_ANAESTHETICS
from needledesk.domain.model import FLAGGED_ANSWER, SCREENING_QUESTIONS
from needledesk.settings import DEFAULT_AFTERCARE

#: The fixed "today" of the demo clinic: the same seed gives the same records on any day.
DEMO_AS_OF = date(2026, 11, 20)
CURRENCY = "USD"
DEPTH_STEP_MM = 0.05


class _Weighted:
    """A population with weights, drawn from with one `rng.random()` call."""

    __slots__ = ("items", "cum", "total", "last")

    def __init__(self, pairs: Sequence[tuple[object, float]]):
        self.items = tuple(item for item, _ in pairs)
        self.cum = tuple(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]
        self.last = len(self.items) - 1

    def __call__(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total, 0, self.last)]


# --- people ---------------------------------------------------------------------------------


class _Names:
    """First and last names of one language, with the feminine and masculine surname forms
    where the language has them (Иванова / Иванов)."""

    def __init__(self, female: str, male: str, surnames: str, male_surnames: str = "",
                 fitzpatrick: Sequence[tuple[int, float]] = (), two_surnames: bool = False):
        self.female = tuple(female.split(","))
        self.male = tuple(male.split(","))
        self.surnames = tuple(surnames.split(","))
        self.male_surnames = tuple(male_surnames.split(",")) if male_surnames else self.surnames
        assert len(self.male_surnames) == len(self.surnames)
        self.fitzpatrick = _Weighted(fitzpatrick or _FITZPATRICK)
        self.two_surnames = two_surnames


_FITZPATRICK = ((1, 7), (2, 24), (3, 31), (4, 21), (5, 10), (6, 7))
_FAIR = ((1, 14), (2, 38), (3, 32), (4, 10), (5, 4), (6, 2))
_OLIVE = ((1, 2), (2, 16), (3, 40), (4, 30), (5, 8), (6, 4))
_EAST_ASIAN = ((2, 10), (3, 42), (4, 38), (5, 10))

_LANGUAGES = _Weighted([
    (_Names("Emily,Sarah,Jessica,Ashley,Olivia,Emma,Hannah,Megan,Rachel,Lauren,Chloe,Grace,"
            "Amy,Rebecca,Kate,Danielle,Tiffany,Keisha,Brianna,Jasmine",
            "James,Michael,David,Daniel,Ryan,Chris,Matthew,Marcus",
            "Smith,Johnson,Williams,Brown,Taylor,Anderson,Thomas,Moore,Martin,Walker,Clarke,"
            "Wright,O'Brien,Murphy,Kelly,Campbell,Hughes,Bennett,MacLeod,Robinson,Jackson,"
            "Washington,Harris-Jones"), 30),
    (_Names("María,Lucía,Sofía,Carmen,Ana,Inés,Ángela,Begoña,Pilar,Mónica,Raquel,Nuria,"
            "María José,Paula,Elena",
            "José,Andrés,Raúl,Ramón,Íñigo,Javier",
            "López,Núñez,García,Martínez,Hernández,Gómez,Pérez,Rodríguez,Sánchez,Jiménez,"
            "Fernández,Muñoz,Ibáñez,Domínguez,Ortiz,Castillo,Peña,Ordóñez",
            fitzpatrick=_OLIVE, two_surnames=True), 16),
    (_Names("Inês,Conceição,Lúcia,Beatriz,Mariana,Leonor,Gabriela,Fernanda,Letícia,Ana Luísa",
            "João,Antônio,Sebastião,Tiago,Gonçalo",
            "Gonçalves,Simões,Araújo,Magalhães,Brandão,Assunção,Rodrigues,Carvalho,Ferreira,"
            "Sousa,Falcão,Guimarães",
            fitzpatrick=_OLIVE), 6),
    (_Names("Françoise,Hélène,Zoé,Élodie,Anaïs,Céline,Amélie,Noémie,Mélanie,Chloé,Maëlle",
            "Loïc,Jérôme,François,Benoît,Raphaël",
            "Lefèvre,Bérubé,Côté,Gagné,Mercier,Lévesque,Dupré,Moreau,Girard,Bélanger,Lemaître"),
     6),
    (_Names("Lena,Anja,Jana,Käthe,Ute,Birgit,Sabine,Hannelore,Jördis,Bärbel",
            "Jürgen,Jörg,Sören,Günther,Lukas",
            "Müller,Schröder,Köhler,Weiß,Groß,Schäfer,Krüger,Schmidt,Wagner,Becker,Hoffmann,"
            "Bäumer,Löwe,Großmann",
            fitzpatrick=_FAIR), 6),
    (_Names("Thu Hà,Minh Anh,Ngọc Ánh,Thảo,Phương,Quỳnh,Hương,Linh,Mai,Lan,Trâm,Thủy",
            "Đức,Tuấn,Minh,Quang,Huy",
            "Nguyễn,Trần,Lê,Phạm,Hoàng,Huỳnh,Võ,Đặng,Bùi,Đỗ,Phan,Vũ",
            fitzpatrick=_EAST_ASIAN), 9),
    (_Names("Małgorzata,Agnieszka,Katarzyna,Łucja,Zofia,Joanna",
            "Łukasz,Paweł,Michał",
            "Kowalska,Wójcik,Zielińska,Wiśniewska,Dąbrowska,Lewandowska,Kamińska",
            "Kowalski,Wójcik,Zieliński,Wiśniewski,Dąbrowski,Lewandowski,Kamiński",
            fitzpatrick=_FAIR), 4),
    (_Names("Åsa,Ingrid,Sigrid,Solveig,Maja,Ærin",
            "Bjørn,Søren,Håkon",
            "Jørgensen,Sørensen,Ødegaard,Åberg,Lindqvist,Bækgaard",
            fitzpatrick=_FAIR), 3),
    (_Names("Ayşe,Gül,Çağla,Büşra,Elif,Zeynep,Şule,Işıl",
            "Emre,Oğuz,Barış",
            "Yılmaz,Şahin,Çelik,Aydın,Öztürk,Kılıç,Doğan,Arslan",
            fitzpatrick=_OLIVE), 3),
    (_Names("Μαρία,Ελένη,Κατερίνα,Δήμητρα,Σοφία,Αθηνά,Βασιλική",
            "Γιώργος,Νίκος,Κώστας",
            "Παπαδοπούλου,Γεωργίου,Νικολάου,Οικονόμου,Δημητρίου,Καραγιάννη,Βλάχου",
            "Παπαδόπουλος,Γεωργίου,Νικολάου,Οικονόμου,Δημητρίου,Καραγιάννης,Βλάχος",
            fitzpatrick=_OLIVE), 3),
    (_Names("Анна,Ольга,Наталья,Елена,Татьяна,Юлия,Ксения,Дарья,Алёна",
            "Алексей,Дмитрий,Сергей",
            "Иванова,Смирнова,Кузнецова,Попова,Соколова,Коваленко,Шевченко,Фёдорова",
            "Иванов,Смирнов,Кузнецов,Попов,Соколов,Коваленко,Шевченко,Фёдоров",
            fitzpatrick=_FAIR), 4),
])

# Greek and Cyrillic letters (after `fold`) as Latin, for made-up e-mail addresses.
def _letters(letters: str, latin: str) -> dict[str, str]:
    return dict(zip(letters, latin.replace("_", "").split(" "), strict=True))


_TRANSLIT = str.maketrans(
    _letters("абвгдежзийклмнопрстуфхцчшщъыьэюяіїєґ",
             "a b v g d e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya i yi ye g")
    | _letters("αβγδεζηθικλμνξοπρσςτυφχψω",
               "a v g d e z i th i k l m n x o p r s s t y f ch ps o"))

_AREA_CODES = ("212", "305", "312", "415", "503", "617", "702", "713", "808", "917")
_EMAIL_DOMAINS = ("example.org", "example.com")
_CLIENT_NOTES = (
    "Prefers late-afternoon appointments.",
    "Referred by a friend.",
    "Sensitive skin; patch test recommended.",
    "Works outdoors; reminded about daily sun protection.",
    "Prefers text-message reminders.",
    "Nervous about needles; talk them through each step.",
)


# --- the clinic -----------------------------------------------------------------------------

PRACTITIONERS: tuple[str, ...] = (
    "Dr. Amara Okafor", "Sofia Lindqvist, RN", "Mei Tanaka", "Lucía Fernández")

#: Concern -> (how common, the areas it is treated on; the first is the main one).
CONCERNS: dict[str, tuple[int, tuple[str, ...]]] = {
    "acne scars": (24, ("cheeks", "acne scars", "chin", "jawline", "forehead", "back")),
    "fine lines and wrinkles": (20, ("forehead", "periorbital", "cheeks", "upper lip/perioral",
                                     "neck", "décolletage")),
    "uneven tone and texture": (14, ("cheeks", "forehead", "chin", "nose", "jawline", "neck")),
    "enlarged pores": (10, ("cheeks", "nose", "chin", "forehead")),
    "stretch marks": (10, ("stretch marks", "abdomen", "thighs", "arms", "back")),
    "sun spots and age spots": (8, ("cheeks", "forehead", "décolletage", "arms")),
    "active-acne aftermath": (8, ("cheeks", "chin", "jawline", "forehead")),
    "other scars": (6, ("cheeks", "chin", "abdomen", "arms", "back")),
}
_CONCERN = _Weighted([(name, weight) for name, (weight, _) in CONCERNS.items()])
_BODY_AREAS = frozenset({"abdomen", "thighs", "arms", "back", "stretch marks"})

_PEN_MODELS = _Weighted([("Dermapen 4", 45), ("SkinPen Precision", 35), ("Exceed", 20)])
_FACE_CARTRIDGES = _Weighted([("12-pin", 40), ("16-pin", 45), ("36-pin", 15)])
_BODY_CARTRIDGES = _Weighted([("36-pin", 75), ("16-pin", 25)])
_ROLLER = "Dermaroller 192"
_LOT_LETTERS = "ABCDEF"

#: Serum product -> lot prefix.
_SERUMS = _Weighted([
    (("Hyaluronic acid 1%", "HA-"), 35), (("Growth factor serum", "GF-"), 20),
    (("Vitamin C 15%", "VC-"), 10), (("Copper peptide serum", "CP-"), 10),
    (("Peptide complex", "PC-"), 10), (("Niacinamide 5%", "NI-"), 7),
    (("Tranexamic acid serum", "TX-"), 8),
])
_ANAESTHETIC = _Weighted([("LMX4", 30), ("EMLA 5%", 20), ("BLT 20/6/4", 20),
                          ("Lidocaine 5% cream", 15), ("Pliaglis", 10), ("LMX5", 5)])

_IMMEDIATE_EXTRA = _Weighted([("oedema", 35), ("pinpoint bleeding", 30), ("soreness", 20),
                              ("irritation/itch", 10), ("bruising", 5)])
_NEXT_DAY = _Weighted([("dryness/flaking", 55), ("irritation/itch", 15), ("acne flare", 10),
                       ("bruising", 10), ("oedema", 10)])
# A reaction's severity (DOMAIN.md): mild redness follows every session; a moderate or severe
# reaction is the exception, more likely above the area's usual depth and with one serum lot.
P_NO_REACTION = 0.03       # a reaction recorded as "none"
P_MODERATE_FIRST = 0.07    # the first reaction (erythema or oedema) is moderate or severe
P_MODERATE_EXTRA = 0.03    # ...each further one
P_SEVERE_OF_THOSE = 0.2    # of the moderate-or-severe ones, severe
RISK_ABOVE_RANGE = 3.0     # those chances times this when an area is above its usual range
RISK_WORSE_LOT = 2.5       # ...and times this with the worse serum lot
#: The serum lot that reacts worse than the others: (product, the lot's letter in CATALOGUE).
#: In date and in use over the demo's last 90 days, so the reactions report points at it.
WORSE_LOT = ("Growth factor serum", "E")

# The clinic's default aftercare list, so demo sessions tick the same items the editor offers.
_SUNSCREEN, *_AFTERCARE_EXTRA = DEFAULT_AFTERCARE[:5]
#: Sunscreen always, plus one or two of the others: two or three items in all.
_AFTERCARE = tuple((_SUNSCREEN, *extra)
                   for k in (1, 2) for extra in combinations(_AFTERCARE_EXTRA, k))
_PASSES = (2, 3, 3, 3, 4)
_DEPTH_INCREASE = (0, 1, 2, 5, 5)     # in 0.05 mm steps, per session
_EXTRA_REACTIONS = (0, 0, 1, 1, 2)
_CONTACT = {name: (usual.low_min, usual.high_min) for name, usual in DEFAULT_ANAESTHETICS.items()}
_SESSION_NOTES = (
    "Client tolerated the treatment well.",
    "Slightly more sensitive on the left side.",
    "Discussed progress with before/after photos.",
    "Client asked about home-care products.",
    "Skin held taut for even passes over the scarred areas.",
)

#: Screening flags a few clients carry, with the practitioner's note on the screening.
_FLAGS = _Weighted([
    (("blood_thinners_or_nsaids",
      "Low-dose aspirin prescribed by the GP, not stopped; expect more pinpoint bleeding."), 50),
    (("retinoids_stopped",
      "Tretinoin stopped only two days ago; client informed, conservative depths agreed."), 30),
    (("keloid_history",
      "Small keloid after an ear piercing years ago; test patch showed no reaction."), 20),
])
_CLEAR_ANSWERS: dict[str, bool | None] = {key: not FLAGGED_ANSWER[key]
                                          for key in SCREENING_QUESTIONS}

# How often things happen, per client or per session.
_COURSES_PER_CLIENT = _Weighted([(1, 10), (2, 30), (3, 60)])
_PLANNED_SESSIONS = _Weighted([(3, 20), (4, 35), (5, 45)])
_INTERVAL_WEEKS = _Weighted([(6, 45), (7, 25), (8, 30)])
P_IN_PROGRESS = 0.45       # the latest course is still running
P_DRAFT = 0.05             # ...and its session today is not signed yet
P_OVERDUE = 0.2            # ...or the client is late for the next session (up to 4 weeks)
P_LAPSED = 0.12            # ...or has not come back for more than two intervals past it
P_ENDED = 0.4              # a lapsed course was ended early, with the reason
P_FLAGGED = 0.04           # one screening has a flagged answer
P_ABOVE_RANGE = 0.04       # a treated area goes 0.05-0.15 mm past its usual range (warned
                           # and acknowledged on the session, with the reason)
P_RESCREEN = 0.8           # a later course starts with a new screening
P_EMAIL = 0.5
P_NEXT_DAY = 0.05          # a next-day check call added a reaction by amendment
P_LOT_FIX = 0.01           # the cartridge lot was corrected by amendment

# --- the demo clinic's product catalogue ------------------------------------------------------

#: Where the catalogue's lots start: sessions before the first lot was received keep the lots
#: typed by hand (the clinic had no catalogue yet), and their anaesthetic has no lot.
#: Per product: (kind, name as the sessions record it, maker, lot prefix, lots); per lot:
#: (days before the demo's "today" it was received, days after it that it expires (negative:
#: expired), its letter). Each session uses the newest lot received by its day and in date on
#: it. So some lots are expired, some expire within 30 days, and the newest are in date.
CATALOGUE: tuple[tuple[str, str, str, str, tuple[tuple[int, int, str], ...]], ...] = (
    ("serum", "Hyaluronic acid 1%", "Hydra Labs", "HA-",
     ((430, -80, "A"), (260, 14, "C"), (120, 240, "B"), (25, 400, "D"))),
    ("serum", "Growth factor serum", "Cellogen", "GF-",
     ((400, -40, "B"), (200, 26, "A"), (60, 300, "E"))),
    ("serum", "Vitamin C 15%", "Lumen Skin", "VC-",
     ((380, -110, "D"), (150, 9, "F"), (45, 420, "A"))),
    ("serum", "Copper peptide serum", "Cellogen", "CP-",
     ((410, -15, "C"), (240, 21, "B"), (90, 210, "A"))),
    ("anaesthetic", "LMX4", "Ferndale", "LX-",
     ((420, -60, "A"), (230, 28, "B"), (40, 380, "C"))),
    ("anaesthetic", "EMLA 5%", "Aspen", "EM-",
     ((390, -25, "E"), (170, 17, "A"), (35, 500, "B"))),
    ("cartridge", "16-pin", "Dermapen", "L",
     ((400, -30, "A"), (210, 12, "D"), (75, 330, "B"), (20, 560, "C"))),
    ("cartridge", "36-pin", "Dermapen", "L",
     ((415, -90, "F"), (180, 24, "E"), (50, 480, "A"))),
)

#: Why a course that lapsed was ended early.
END_REASONS = ("Client moved away.", "Client is pregnant; course stopped.",
               "Client satisfied with the results so far.", "Client chose to stop (cost).")

#: The lot prefix of each anaesthetic, for lots typed by hand once the clinic records them.
ANAESTHETIC_LOT_PREFIX: dict[str, str] = {
    "LMX4": "LX-", "EMLA 5%": "EM-", "BLT 20/6/4": "BLT-", "Lidocaine 5% cream": "LD-",
    "Pliaglis": "PG-", "LMX5": "LX5-"}

# --- photos ---------------------------------------------------------------------------------

#: How many demo clients `needledesk demo` photographs: the first ones with a course of three
#: sessions or more, each signing a photo consent (on paper) on the course's first day and
#: photographed at every session of it (synthetic faces: `needledesk.demo_photos`).
PHOTO_CLIENTS = 4
#: The views taken at each of those sessions, and the photos' size (small: the demo stays
#: quick; a phone's photo is 12 megapixels, which the benchmark uses).
PHOTO_VIEWS = ("front", "left_45", "right_45")
PHOTO_SIZE = (600, 800)
#: The photo uses ticked on the demo's consents: every client allows the record and being
#: shown; every other one teaching too.
PHOTO_USES_GIVEN = (("photo_use_record", "photo_use_shown"),
                    ("photo_use_record", "photo_use_shown", "photo_use_teaching"))
