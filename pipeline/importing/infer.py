"""Rules guessed from column names and types, each with the reason the notes show.

A guess only ever fills what the source left open: a CHECK, an enum or a profile of real data
wins over a name, and the SQL type bounds every guess (a ``price NUMERIC(5,2)`` stays below
1,000). The guesses are plain tables of name patterns, so adding one is one line.
Sensitivity is guessed for names that look like personal data, so masking works at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import Column, Table

PII, SENSITIVE = "PII", "SENSITIVE"
_PERSON_TABLES = (
    "customer",
    "user",
    "employee",
    "person",
    "people",
    "member",
    "author",
    "contact",
    "student",
    "patient",
    "staff",
    "artist",
    "client",
    "account",
    "driver",
    "passenger",
    "guest",
    "player",
    "owner",
    "teacher",
    "manager",
    "agent",
    "speaker",
    "attendee",
    "subscriber",
)
_ROLES = (
    "recipient",
    "sender",
    "buyer",
    "seller",
    "assignee",
    "reviewer",
    "holder",
    "emergency",
    "parent",
    "spouse",
    "doctor",
    "nurse",
    "cardholder",
)
_COMPANY_TABLES = (
    "company",
    "companies",
    "supplier",
    "vendor",
    "organization",
    "organisation",
    "org",
    "tenant",
    "brand",
    "publisher",
    "manufacturer",
    "carrier",
    "partner",
    "merchant",
    "store",
    "shop",
)


def words(name: str) -> list[str]:
    """``customerEmailAddress`` and ``customer_email_address`` both give customer, email, address."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w]


@dataclass(frozen=True)
class Guess:
    """A Faker method (``rule`` a string) or a range for numbers, and the sensitivity it implies."""

    rule: Any
    kinds: tuple[str, ...] = ("str",)
    sensitivity: str | None = None


# (test on the column's words and joined name, guess). First match wins: specific before general.
_Test = Callable[[list[str], str], bool]


def _has(*options: str) -> _Test:
    return lambda ws, joined: any(o in ws or joined == o or joined.endswith("_" + o) for o in options)


def _joined(*options: str) -> _Test:
    return lambda ws, joined: any(o in joined for o in options)


def _either(*tests: _Test) -> _Test:
    return lambda ws, joined: any(test(ws, joined) for test in tests)


_MONEY = {"type": "range", "min": 0, "max": 1000}
_NAME_GUESSES: list[tuple[_Test, Guess]] = [
    (_joined("email", "e_mail"), Guess("email", ("str", "email"), PII)),
    (_joined("first_name", "firstname", "given_name", "forename"), Guess("first_name", sensitivity=PII)),
    (_joined("last_name", "lastname", "surname", "family_name"), Guess("last_name", sensitivity=PII)),
    (_joined("full_name", "fullname", "contact_name", "display_name"), Guess("name", sensitivity=PII)),
    (_joined("middle_name"), Guess("first_name", sensitivity=PII)),
    (_joined("username", "user_name", "login", "nickname", "handle"), Guess("user_name", sensitivity=PII)),
    (_joined("password", "passwd", "pwd_hash", "secret"), Guess("sha256", sensitivity=SENSITIVE)),
    (_joined("ssn", "social_security", "national_id", "tax_id", "taxid"), Guess("ssn", sensitivity=SENSITIVE)),
    (_joined("iban"), Guess("iban", sensitivity=SENSITIVE)),
    (_joined("bban", "account_number"), Guess("bban", sensitivity=SENSITIVE)),
    (_has("swift", "bic"), Guess("swift")),
    (
        _either(_joined("credit_card", "card_number", "cc_number"), _has("pan")),
        Guess("credit_card_number", sensitivity=SENSITIVE),
    ),
    (_joined("passport"), Guess("passport_number", sensitivity=SENSITIVE)),
    (_joined("phone", "mobile", "telephone", "fax", "msisdn"), Guess("phone_number", ("str", "phone"), PII)),
    (_has("country_code", "country_iso", "iso_country"), Guess("country_code")),
    (_has("country", "nation"), Guess("country")),
    (_has("city", "town", "municipality"), Guess("city")),
    (_has("state_code", "state_abbr", "province_code"), Guess("state_abbr")),
    (_has("state", "province", "region", "county"), Guess("state")),
    (_has("zip", "zipcode", "zip_code", "postcode", "postal_code", "postalcode"), Guess("postcode", sensitivity=PII)),
    (_either(_joined("ip_address", "ipaddress", "ipv4", "ip_addr"), _has("ip")), Guess("ipv4", sensitivity=PII)),
    (_joined("address", "street"), Guess("street_address", sensitivity=PII)),
    (_has("currency", "currency_code"), Guess("currency_code")),
    (_has("language", "language_code", "lang"), Guess("language_code")),
    (_has("locale"), Guess("locale")),
    (_has("timezone", "time_zone", "tz"), Guess("timezone")),
    (_has("color", "colour"), Guess("color_name")),
    (_joined("company", "employer", "organization", "organisation"), Guess("company")),
    (_has("job", "job_title", "occupation", "position_title"), Guess("job")),
    (_has("url", "website", "homepage", "link", "uri"), Guess("url")),
    (_has("domain"), Guess("domain_name")),
    (_joined("user_agent", "useragent"), Guess("user_agent")),
    (_has("slug"), Guess("slug")),
    (_has("isbn"), Guess("isbn13")),
    (_has("ean", "barcode", "gtin", "upc"), Guess("ean13")),
    (_has("plate", "license_plate"), Guess("license_plate")),
    (_has("mime", "mime_type", "content_type"), Guess("mime_type")),
    (_has("filename", "file_name"), Guess("file_name")),
    (
        _has(
            "sku",
            "code",
            "reference",
            "ref",
            "serial",
            "serial_number",
            "tracking_number",
            "order_number",
            "invoice_number",
            "confirmation",
        ),
        Guess({"type": "regex", "regex": "^[A-Z]{3}-[0-9]{6}$"}),
    ),
    (_has("hash", "checksum", "digest", "md5"), Guess("md5")),
    (
        _has(
            "description",
            "comment",
            "comments",
            "notes",
            "note",
            "bio",
            "body",
            "summary",
            "message",
            "review",
            "content",
            "text",
            "remarks",
        ),
        Guess("sentence"),
    ),
    (_has("title", "headline", "subject"), Guess("catch_phrase")),
    (_has("latitude", "lat"), Guess({"type": "range", "min": -90, "max": 90, "precision": 6}, ("float",))),
    (
        _has("longitude", "lng", "lon", "long"),
        Guess({"type": "range", "min": -180, "max": 180, "precision": 6}, ("float",)),
    ),
    (
        _has(
            "price",
            "amount",
            "cost",
            "total",
            "subtotal",
            "fee",
            "tax",
            "balance",
            "revenue",
            "payment",
            "charge",
            "freight",
            "shipping",
            "budget",
            "value",
        ),
        Guess(_MONEY, ("int", "float")),
    ),
    (
        _has("salary", "wage", "income", "compensation"),
        Guess({"type": "range", "min": 20000, "max": 200000}, ("int", "float")),
    ),
    (
        _has("quantity", "qty", "units", "count", "stock", "inventory"),
        Guess({"type": "range", "min": 0, "max": 100}, ("int", "float")),
    ),
    (_has("age"), Guess({"type": "range", "min": 18, "max": 90}, ("int",))),
    (_has("rating", "stars", "score"), Guess({"type": "range", "min": 1, "max": 5}, ("int", "float"))),
    (
        _has("percent", "percentage", "pct", "discount", "rate"),
        Guess({"type": "range", "min": 0, "max": 100}, ("int", "float")),
    ),
    (_has("year"), Guess({"type": "range", "min": 1990, "max": 2025}, ("int",))),
    (_has("name"), Guess("catch_phrase")),
    (
        _has("weight", "height", "width", "length", "depth", "size", "duration", "minutes", "seconds", "distance"),
        Guess({"type": "range", "min": 1, "max": 1000}, ("int", "float")),
    ),
]

_SHORT_FORMS = {"country": "country_code", "state": "state_abbr", "language_code": "language_code"}
_BIRTH = ("birth_date", "birthdate", "date_of_birth", "dob", "birthday", "born_on", "birth_day")
# Later-in-time columns and the earlier column they start from, when both exist with the same type.
_LATER = {
    "updated": ("created", "inserted"),
    "modified": ("created", "inserted"),
    "changed": ("created",),
    "published": ("created", "written"),
    "approved": ("created", "submitted"),
    "cancelled": ("created", "ordered", "placed"),
    "canceled": ("created", "ordered", "placed"),
    "confirmed": ("created", "ordered", "placed"),
    "verified": ("created", "registered"),
    "deleted": ("created",),
    "closed": ("opened", "created"),
    "resolved": ("created", "opened"),
    "ended": ("started",),
    "finished": ("started",),
    "completed": ("started", "created"),
    "end": ("start", "begin"),
    "expires": ("issued", "created"),
    "expiry": ("issue", "issued", "created"),
    "shipped": ("ordered", "order", "created", "placed"),
    "delivered": ("shipped",),
    "returned": ("delivered", "shipped"),
    "paid": ("issued", "invoiced", "created", "ordered"),
    "last_login": ("created", "registered", "signup"),
    "terminated": ("hired", "hire"),
    "termination": ("hire", "hired"),
    "checkout": ("checkin",),
    "dropoff": ("pickup",),
    "arrival": ("departure",),
    "read": ("sent", "created", "delivered"),
    "expected": ("ordered", "order", "created"),
    "due": ("issued", "issue", "invoice", "created"),
}
_TIME_SUFFIXES = ("at", "ts", "on", "date", "time", "datetime", "timestamp", "dt")


def guess_name(table: Table, column: Column) -> tuple[Guess | None, str]:
    """The first name pattern that fits the column's type, and why it matched."""
    ws, joined = words(column.name), "_".join(words(column.name))
    kind = column.kind
    if joined == "name" or (joined.endswith("_name") and len(ws) == 2 and ws[0] in (table.name.lower().rstrip("s"),)):
        table_words = words(table.name)
        if any(t in w for w in table_words for t in _PERSON_TABLES):
            return Guess("name", sensitivity=PII), f"'name' of a person table ({table.name})"
        if any(t in w for w in table_words for t in _COMPANY_TABLES):
            return Guess("company"), f"'name' of an organisation table ({table.name})"
    person_role = len(ws) >= 2 and ws[-1] == "name" and any(ws[-2].startswith(t) for t in _PERSON_TABLES + _ROLES)
    if person_role and kind == "str":
        return Guess("name", sensitivity=PII), f"name {column.name!r}, a person's"
    for test, guess in _NAME_GUESSES:
        if test(ws, joined) and kind in guess.kinds:
            short = column.length is not None and column.length <= 3
            if (
                short and isinstance(guess.rule, str) and guess.rule in _SHORT_FORMS
            ):  # country CHAR(2) is a code, not a name cut short
                return Guess(_SHORT_FORMS[guess.rule], guess.kinds, guess.sensitivity), f"name {column.name!r}, short"
            return guess, f"name {column.name!r}"
    return None, ""


def stem_of_time(name: str) -> str | None:
    """``updated_at`` -> ``updated``; ``ship_date`` -> ``ship``; None for names with no time suffix."""
    ws = words(name)
    if len(ws) >= 2 and ws[-1] in _TIME_SUFFIXES:
        return "_".join(ws[:-1])
    return None


def earlier_column(table: Table, column: Column) -> Column | None:
    """The column ``column`` follows in time by name (``updated_at`` -> ``created_at``), same type."""
    stem = stem_of_time(column.name)
    if stem is None or stem not in _LATER:
        return None
    for other in table.columns.values():
        if other is column or other.kind != column.kind:
            continue
        other_stem = stem_of_time(other.name)
        if other_stem in _LATER[stem]:
            return other
    return None


def is_birth_date(column: Column) -> bool:
    return "_".join(words(column.name)) in _BIRTH or any(b in column.name.lower() for b in ("birth", "dob"))


def looks_personal(table: Table, column: Column) -> bool:
    """PII by name: the profile never copies such a column's values, whatever their count."""
    guess, _ = guess_name(table, column)
    return bool((guess and guess.sensitivity) or is_birth_date(column))
