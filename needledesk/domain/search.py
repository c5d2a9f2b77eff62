"""How a client is found: the words and digits a search matches, and what a typed query asks.

A client's *search text* holds, space-separated:

- the words of their name folded (`López` -> `lopez`; Cyrillic and Greek stay in their own
  script, so typing in it finds them);
- the Latin spellings people use for a name in another script: `anyascii` gives one
  (`Иванов` -> `ivanov`), and `SPELLINGS` adds the usual alternatives letter by letter
  (`Фёдорова` -> `fedorova`, `fyodorova`; `Παπαδοπούλου` -> `papadopoulou`);
- the phone's digits as written, and, when the number reads as a possible one by the rules
  of the clinic's country (`phonenumbers`), its international digits (`447700900123`) and
  its national ones (`07700900123`), so `+44 7700 900123` finds `07700 900 123`.

A typed query is either a phone number (no letters: its digit run, and its international and
national digits when it reads as a number) or words (each must start a word of the search
text, or be a run of digits in it). No Qt, no SQL: the store keeps the text in a column and
turns `query_terms` into LIKE patterns.

`store.schema` keeps a frozen copy of this as it stood when the search text was first
stored (step `search_text`); change this and that step's copy stays as it is (a test compares
them: a change here needs a new step that recomputes the stored texts).
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii

from needledesk.domain.text import digits, fold

#: The Latin spellings people use for letters of other scripts, beside anyascii's own,
#: first the most usual. Keys are lower-case; Greek keys without accents (they are stripped
#: first). A two-letter key is matched before its first letter.
SPELLINGS: dict[str, tuple[str, ...]] = {
    # Cyrillic (Russian, Ukrainian, Bulgarian passports and everyday spellings)
    "ё": ("e", "yo", "jo"),
    "й": ("y", "i", "j"),
    "х": ("kh", "h"),
    "ц": ("ts", "c", "tz"),
    "ж": ("zh", "j"),
    "щ": ("shch", "sch"),
    "я": ("ya", "ia", "ja"),
    "ю": ("yu", "iu", "ju"),
    "ы": ("y", "i"),
    "ъ": ("",),
    "ь": ("",),
    "є": ("ye", "ie"),
    "ї": ("yi", "i"),
    # Greek (ELOT 743 and the older spellings still on many documents)
    "ου": ("ou",),
    "αι": ("ai", "e"),
    "ει": ("ei", "i"),
    "οι": ("oi", "i"),
    "αυ": ("av", "af"),
    "ευ": ("ev", "ef"),
    "μπ": ("mp", "b"),
    "ντ": ("nt", "d"),
    "γγ": ("ng", "gg"),
    "γκ": ("gk", "g"),
    "β": ("v", "b"),
    "η": ("i", "e"),
    "υ": ("y", "i"),
    "χ": ("ch", "h", "kh"),
    "φ": ("f", "ph"),
    "ξ": ("x", "ks"),
    "ω": ("o",),
}
#: Letters whose accent is part of the letter: kept whole until SPELLINGS has seen them.
_WHOLE = frozenset("ёйї")
#: At most this many spellings of one word (the combinations of alternatives grow fast).
MAX_SPELLINGS = 8


def _letters(word: str) -> str:
    """Lower-case, Greek accents stripped, Cyrillic ё/й/ї kept whole."""
    return "".join(ch if ch in _WHOLE else fold(ch) for ch in word)


def words(text: str) -> list[str]:
    """The words of `text` as written (lower-case, composed); anything not a letter or a
    digit separates them."""
    lowered = unicodedata.normalize("NFC", text.casefold())
    return "".join(ch if ch.isalnum() else " " for ch in lowered).split()


def spellings(word: str) -> list[str]:
    """The ASCII spellings of one word, most usual first (`фёдорова` -> `fedorova`,
    `fyodorova`, ...); a Latin word gives its folded self."""
    return list(_spellings(word))


@functools.lru_cache(maxsize=8192)
def _spellings(word: str) -> tuple[str, ...]:
    folded = fold(word)
    if folded.isascii():
        # Latin letters: every spelling below would be this one (a shortcut, same result).
        plain = "".join(ch for ch in folded if ch.isalnum())
        return (plain,) if plain else ()
    letters = _letters(word)
    parts: list[tuple[str, ...]] = []
    at = 0
    while at < len(letters):
        pair = letters[at:at + 2]
        if len(pair) == 2 and pair in SPELLINGS:
            parts.append(SPELLINGS[pair])
            at += 2
            continue
        ch = letters[at]
        parts.append(SPELLINGS.get(ch) or (fold(anyascii(ch)),))
        at += 1
    found: list[str] = []
    # Every part's first spelling, then every part's second, then the other mixes.
    firsts = "".join(p[0] for p in parts)
    seconds = "".join(p[min(1, len(p) - 1)] for p in parts)
    for candidate in itertools.chain((firsts, seconds, fold(anyascii(word))),
                                     ("".join(c) for c in itertools.product(*parts))):
        spelt = "".join(ch for ch in candidate if ch.isalnum())
        if spelt and spelt not in found:
            found.append(spelt)
        if len(found) >= MAX_SPELLINGS:
            break
    return tuple(found)


def _number(text: str, country: str) -> Any:
    """The number `text` reads as by `country`'s rules (a `phonenumbers.PhoneNumber`), or
    None when it is not a possible one."""
    # Imported here: its import costs start-up time the first paint never needs.
    import phonenumbers

    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def phone_digits(phone: str | None, country: str) -> list[str]:
    """The digit runs a phone is found by: as written, and (when it reads as a possible
    number in `country`'s rules, or is written internationally) international and national."""
    written = digits(phone)
    if not written:
        return []
    found = [written]
    number = _number(phone or "", country)
    if number is not None:
        import phonenumbers

        for form in (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.NATIONAL):
            run = digits(phonenumbers.format_number(number, form))
            if run and run not in found:
                found.append(run)
    return found


def search_text(first_name: str, last_name: str, phone: str | None, country: str) -> str:
    """What a client is found by (see the module's docstring), with a space before each word."""
    name_words = words(f"{last_name} {first_name}")
    found: list[str] = []
    for word in name_words:
        for spelt in (fold(word), *_spellings(word)):
            if spelt not in found:
                found.append(spelt)
    return "".join(f" {w}" for w in (*found, *phone_digits(phone, country)))


@dataclass(frozen=True)
class Term:
    """One typed term: found when any of `alternatives` starts a word of the search text
    (`word`) or appears anywhere in it (a run of digits)."""

    alternatives: tuple[str, ...]
    word: bool


def is_phone_query(query: str) -> bool:
    """No letters and some digits: `+44 7700 900123`, `(555) 0100`, `0100`."""
    return any(ch.isdigit() for ch in query) and not any(ch.isalpha() for ch in query)


#: A typed phone number is read by the country's rules only from this many digits on: a
#: shorter run is a part of a number, found where it is written.
QUERY_DIGITS_READ = 7


def query_terms(query: str, country: str) -> list[Term]:
    """What a typed query asks for: a phone number as one term, otherwise a term per word."""
    if is_phone_query(query):
        run = digits(query)
        if len(run) < QUERY_DIGITS_READ:
            return [Term((run,), word=False)]
        # A form shorter than that (the national part of `+44 77009`) would find too much.
        return [Term(tuple(a for a in phone_digits(query, country)
                           if len(a) >= QUERY_DIGITS_READ), word=False)]
    terms = []
    for word in words(query):
        folded = fold(word)
        terms.append(Term((folded,), word=not folded.isdigit()))
    return terms


def reads_as(name: str, typed: list[str]) -> bool:
    """True when the words of `name` start with the typed words in order, in any of their
    spellings: `anna fyo` reads as `Анна Фёдорова`."""
    name_words = words(name)
    if len(name_words) < len(typed):
        return False
    for word, token in zip(name_words, typed, strict=False):
        if not any(s.startswith(token) for s in (fold(word), *_spellings(word))):
            return False
    return True
