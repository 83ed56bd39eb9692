"""The listing parser: listing text in, a ``Listing`` or a ``ListingError`` out. No Django, no database.

The format is specified in ``docs/listing-format.md``; in short, a summary followed by ``- Name: value`` fields,
where ``MOC Credit Details`` and ``Commercial Support`` may arrive glued to the end of the line before them.
Every problem is collected, so one run tells the provider everything wrong with a record at once.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from activities import moc, rules
from activities.vocabulary import (
    ACTIVITY_TYPE_BY_CODE,
    ACTIVITY_TYPE_BY_KEY,
    CONTACT_HOUR_CREDIT_TYPES,
    CREDIT_TYPE_BY_KEY,
    ENDURING,
    FINEST_CONTACT_HOUR_INCREMENT,
    FORMAT_BY_KEY,
    MOC_BOARD_BY_KEY,
    MOC_CREDIT_TYPE_BY_KEY,
    OUTCOME_BY_KEY,
    lookup_key,
)
from portal.lib.csv import FORMULA_PREFIXES, starts_like_formula

TITLE = "Title"
SUMMARY = "Summary"
PROVIDER = "Provider"
ACTIVITY_LINK = "Activity Link"
START_DATE = "Start Date"
END_DATE = "End Date"
CREDIT_DETAILS = "Credit Details"
MOC_CREDIT_DETAILS = "MOC Credit Details"
COMMERCIAL_SUPPORT = "Commercial Support"
ACTIVITY_TYPE = "Activity Type"
FORMAT = "CME Finder Type"
FEE = "Fee to Participate"
MEASURED_OUTCOME = "Measured Outcome"
PROVIDERSHIP = "Provider Ship"
REGISTRATION = "Registration"
SPECIALTY = "Specialty"
COMPLETION_REQUIREMENTS = "Completion Requirements"
FILE = "File"

FIELDS = (
    TITLE,
    PROVIDER,
    ACTIVITY_LINK,
    START_DATE,
    END_DATE,
    CREDIT_DETAILS,
    MOC_CREDIT_DETAILS,
    COMMERCIAL_SUPPORT,
    ACTIVITY_TYPE,
    FORMAT,
    FEE,
    MEASURED_OUTCOME,
    PROVIDERSHIP,
    REGISTRATION,
    SPECIALTY,
    COMPLETION_REQUIREMENTS,
)
_FIELD_BY_KEY = {lookup_key(name): name for name in FIELDS}
REQUIRED = (
    PROVIDER,
    ACTIVITY_LINK,
    START_DATE,
    END_DATE,
    CREDIT_DETAILS,
    COMMERCIAL_SUPPORT,
    ACTIVITY_TYPE,
    FORMAT,
    FEE,
    PROVIDERSHIP,
    REGISTRATION,
    SPECIALTY,
)

MAX_TITLE = 300
MAX_NAME = 200
MAX_LINK = 500
# The seed's summary is one line of 1,171 characters; a paragraph ten times that is still a summary, and no
# field line comes near it. The cap bounds what each line costs, whatever arrives.
MAX_LINE = 10_000
# A record has 15 fields and perhaps a few its sender added; bounding them (and the problems quoted per field)
# keeps what one hostile file can make the parser report to a few screens, not a warning for every line.
MAX_FIELDS = 100
MAX_PROBLEMS = 20
MAX_AMOUNT = Decimal("999.99")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# Every pattern below reads untrusted text, so each is unambiguous: a run of characters can be matched in
# one way only (no two adjacent or nested quantifiers that could both take the same character), which keeps
# matching linear in the text's length however many spaces, tabs, colons or dashes it holds.
#
# A field starts at a line beginning with "- Name:"; the flattened list bullets also glue the known fields
# that follow a multi-line value ("... 1.5 hours - MOC Credit Details: ...") onto the previous line. A name
# is a letter and up to 59 more characters; a run of spaces inside it is taken together with the character
# after the run, so a run belongs either inside the name or before the colon, never to both.
_NAME_CHAR = r"[^:\n \t]"
_LINE_FIELD = rf"^[ \t]*-[ \t]*(?P<head>[^\W\d_](?:{_NAME_CHAR}|[ \t]+{_NAME_CHAR}){{0,59}})[ \t]*:"
# One space or tab, not a run, before the dash: a run would be tried again from each of its positions.
_GLUED_FIELD = r"[ \t]-[ \t]*(?=[{initials}])(?P<glued>{names})[ \t]*:".format(
    initials="".join(sorted({name[0] for name in FIELDS})),
    names="|".join(r"[ \t]*".join(map(re.escape, name.split())) for name in FIELDS),
)
_FIELD_START = re.compile(f"{_LINE_FIELD}|{_GLUED_FIELD}", re.MULTILINE | re.IGNORECASE)
_KNOWN_LINE_FIELD = re.compile(_LINE_FIELD, re.MULTILINE)

# Matched against whole, stripped lines. A name or type runs to the first colon or parenthesis and is
# stripped in code, rather than a lazy name followed by optional spaces (which tries every split of a run).
_CREDIT_LINE = re.compile(
    r"(?P<name>[^:]+):\s*(?P<amount>\S+)(?:\s+(?:contact\s+)?(?:hours?|credits?))?", re.IGNORECASE
)
_MOC_LINE = re.compile(
    r"(?P<board>[A-Za-z]+)\s*-\s*(?P<points>\S+)\s+points?\s*;\s*credit\s*types?\s*(?:\(s\)\s*)?:\s*"
    r"(?P<types>\S.*)",
    re.IGNORECASE,
)
_MOC_TYPE = re.compile(r"(?P<type>[^()]+)\(\s*(?P<board>[A-Za-z]+)\s*\)")
_MONEY = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_FEE_DOLLARS = re.compile(rf"^(?:\$\s*(?P<a>{_MONEY})|(?P<b>{_MONEY})\s*USD)$", re.IGNORECASE)
_JOINT_PREFIX = re.compile(r"^(?:by|with|[-:,(])\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s+|(?=[A-Z]))")
_SPACES = re.compile(r"\s+")
# Dates and amounts in ASCII digits, as the format writes them: strptime alone also takes "2023-9-1 5:0:0",
# and Decimal reads "1_5" as 15, "1e1" as 10, and "NaN".
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# "Post-test 70 %", "Post-test 70% (3 attempts)", "Post test 80 % (unlimited attempts)".
_POST_TEST = re.compile(
    r"post[- ]?test\s*(?P<score>[0-9]{1,6})\s*%(?:\s*\(\s*(?P<attempts>[0-9]{1,6}|unlimited)\s+attempts?\s*\))?",
    re.IGNORECASE,
)
_POST_TEST_NAME = re.compile(r"post[- ]?test\b", re.IGNORECASE)
MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ListingError(Exception):
    """A listing that breaks the format; ``errors`` names each field and why."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class CreditLine:
    credit_type: str  # vocabulary code, e.g. "ama_pra_1"
    amount: Decimal


@dataclass(frozen=True)
class MocLine:
    board: str  # vocabulary code, e.g. "ABPATH"
    credit_type: str  # vocabulary code, e.g. "lifelong_learning"
    points: Decimal


@dataclass(frozen=True)
class PostTestLine:
    passing_score: int  # percent, 1 to 100
    max_attempts: int | None  # None: unlimited


@dataclass(frozen=True)
class Listing:
    title: str
    title_derived: bool
    summary: str
    provider: str
    activity_link: str
    start: datetime
    end: datetime
    end_defaulted: bool
    credits: tuple[CreditLine, ...]
    moc: tuple[MocLine, ...]
    commercial_support: bool
    activity_type: str
    format: str
    fee_kind: str  # "free" | "variable" | "fixed"
    fee_amount: Decimal | None
    measured_outcomes: tuple[str, ...]
    providership: str  # "direct" | "joint"
    joint_provider: str
    registration: str  # "open" | "limited"
    registration_text: str
    specialties: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    # Completion Requirements: what the activity asks of learners before they claim. The import adds what
    # is named and missing; it never removes or changes what the activity has.
    post_test: PostTestLine | None = None
    evaluation: bool = False


def parse_listing(data: str | bytes) -> Listing:
    """Parse one listing record. Raises ``ListingError`` listing every problem; never anything else.

    Takes time linear in the text's length, whatever it holds; a line longer than ``MAX_LINE`` characters
    refuses the file, naming the line.
    """
    text = _decode(data)
    summary, raw_fields, warnings = _split(text)
    errors: list[FieldError] = []
    values: dict[str, str] = {}
    for name, value in raw_fields:
        if name in values:
            errors.append(FieldError(name, "appears more than once"))
        else:
            values[name] = value
    for name in REQUIRED:
        if not values.get(name, "").strip():
            errors.append(FieldError(name, "is required" if name not in values else "is empty"))

    reader = _Reader(values, errors)
    if not summary:
        errors.append(FieldError(SUMMARY, "is required: the text before the first field"))
    title = reader.read(TITLE, _parse_title) if TITLE in values else None
    provider = reader.read(PROVIDER, _parse_name)
    link = reader.read(ACTIVITY_LINK, _parse_link)
    start = reader.read(START_DATE, _parse_datetime)
    end = reader.read(END_DATE, _parse_datetime)
    credits = reader.read(CREDIT_DETAILS, _parse_credits)
    moc = reader.read(MOC_CREDIT_DETAILS, _parse_moc, optional=True) or ()
    commercial_support = reader.read(COMMERCIAL_SUPPORT, _parse_yes_no)
    activity_type = reader.read(ACTIVITY_TYPE, _choice(ACTIVITY_TYPE_BY_KEY, "an activity type"))
    format_ = reader.read(FORMAT, _choice(FORMAT_BY_KEY, "a format"))
    fee = reader.read(FEE, _parse_fee)
    outcomes = reader.read(MEASURED_OUTCOME, _parse_outcomes, optional=True) or ()
    providership = reader.read(PROVIDERSHIP, _parse_providership)
    registration = reader.read(REGISTRATION, _parse_registration)
    specialties = reader.read(SPECIALTY, _parse_specialties)
    post_test, evaluation = reader.read(COMPLETION_REQUIREMENTS, _parse_requirements) or (None, False)

    end, end_defaulted = _check_schedule(start, end, activity_type, errors)
    title_derived = title is None
    if title_derived and summary and not errors:
        title = derive_title(summary)
        if not title:
            errors.append(FieldError(TITLE, "is required: the summary's first sentence has no words for one"))
    if errors:
        raise ListingError(errors)
    # No errors: the title was read or derived from the summary, and the required end date was read.
    assert title is not None
    assert end is not None

    return Listing(
        title=title,
        title_derived=title_derived,
        summary=summary,
        provider=provider,
        activity_link=link,
        start=start,
        end=end,
        end_defaulted=end_defaulted,
        credits=credits,
        moc=moc,
        commercial_support=commercial_support,
        activity_type=activity_type,
        format=format_,
        fee_kind=fee[0],
        fee_amount=fee[1],
        measured_outcomes=outcomes,
        providership=providership[0],
        joint_provider=providership[1],
        registration=registration[0],
        registration_text=registration[1],
        specialties=specialties,
        warnings=tuple(warnings),
        post_test=post_test,
        evaluation=evaluation,
    )


def _check_schedule(
    start: datetime | None, end: datetime | None, activity_type: str | None, errors: list[FieldError]
) -> tuple[datetime | None, bool]:
    """The end date, and whether it was defaulted (an enduring material whose end repeats its start gets the
    longest term it may have); what is wrong with the schedule goes into ``errors``."""
    end_defaulted = False
    if start is None or end is None or activity_type is None:
        return end, end_defaulted
    try:
        if end == start and ACTIVITY_TYPE_BY_CODE[activity_type].kind == ENDURING:
            end, end_defaulted = rules.enduring_expiry(start), True
        schedule = rules.schedule_errors(activity_type=activity_type, start=start, end=end)
    except ValueError:  # the 12-month or 3-year limit falls after year 9999
        schedule = [("start", "is too late: its accreditation period would end after year 9999")]
    for which, message in schedule:
        errors.append(FieldError(START_DATE if which == "start" else END_DATE, message))
    return end, end_defaulted


def derive_title(summary: str) -> str:
    """A title from the summary's first sentence, for records without a ``Title`` field.

    Never begins like a spreadsheet formula (see ``_parse_title``): leading ``=``, ``+``, ``-`` and ``@``
    are dropped, so a bulleted or quoted summary still gives a title. Empty when nothing else is left.
    """
    first = _SENTENCE_END.split(summary.strip(), maxsplit=1)[0].strip().rstrip(".")
    first = _SPACES.sub(" ", first).lstrip("".join(FORMULA_PREFIXES) + " ")
    if len(first) <= 150:
        return first
    cut = first[:150].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


class _Reader:
    """Runs one field's parser, turning its ``ValueError`` into a ``FieldError``."""

    def __init__(self, values: dict[str, str], errors: list[FieldError]):
        self.values = values
        self.errors = errors

    def read(self, name, parse, *, optional=False):
        value = self.values.get(name, "").strip()
        if not value:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.errors.append(FieldError(name, str(exc)))
            return None


def _decode(data: str | bytes) -> str:
    if isinstance(data, bytes):
        if b"\x00" in data:
            raise ListingError([FieldError(FILE, "is not a text file")])
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ListingError([FieldError(FILE, "is not UTF-8 text")]) from None
    text = data.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    if "\x00" in text:
        raise ListingError([FieldError(FILE, "is not a text file")])
    if not text.strip():
        raise ListingError([FieldError(FILE, "is empty")])
    long_lines = [number for number, line in enumerate(text.split("\n"), 1) if len(line) > MAX_LINE]
    if long_lines:
        more = len(long_lines) - 1
        raise ListingError(
            [
                FieldError(
                    FILE,
                    f"line {long_lines[0]} is longer than {MAX_LINE:,} characters"
                    + (f" (and {more} more line{'s' if more > 1 else ''})" if more else ""),
                )
            ]
        )
    return text


def _split(text: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The summary, the ``(field, value)`` pairs in order, and warnings for unknown fields."""
    first = next(
        (m for m in _KNOWN_LINE_FIELD.finditer(text) if lookup_key(m.group("head")) in _FIELD_BY_KEY), None
    )
    if first is None:
        return text.strip(), [], []
    summary = text[: first.start()].strip()
    matches: list[re.Match[str]] = []
    for match in _FIELD_START.finditer(text, first.start()):
        if len(matches) == MAX_FIELDS:
            line = text.count("\n", 0, match.start()) + 1
            raise ListingError(
                [FieldError(FILE, f"has more than {MAX_FIELDS} fields (the next starts on line {line})")]
            )
        matches.append(match)
    fields, warnings = [], []
    for index, match in enumerate(matches):
        value_end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : value_end].strip()
        raw_name = match.group("head") or match.group("glued")
        name = _FIELD_BY_KEY.get(lookup_key(raw_name))
        if name is None:
            warnings.append(f"{_SPACES.sub(' ', raw_name.strip())}: unknown field, ignored")
        else:
            fields.append((name, value))
    return summary, fields, warnings


def _one_line(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def _quote(text: str) -> str:
    """``text`` quoted for a message, cut to 80 characters."""
    return repr(text) if len(text) <= 80 else repr(text[:80]) + "…"


def _joined(problems: list[str]) -> str:
    more = len(problems) - MAX_PROBLEMS
    return "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")


def _parse_title(value: str) -> str:
    # Registry files carry titles exactly, and are opened in spreadsheets, where a cell beginning like a
    # formula runs as one; the rule is on the title as stored, after the spaces around it are stripped.
    title = _one_line(value)
    if len(title) > MAX_TITLE:
        raise ValueError(f"is longer than {MAX_TITLE} characters")
    if starts_like_formula(title):
        raise ValueError(
            f"{title[:80]} begins with '{title[0]}': "
            "a title may not begin with =, +, -, @, a tab or a line break"
        )
    return title


def _parse_name(value: str) -> str:
    name = _one_line(value)
    if len(name) > MAX_NAME:
        raise ValueError(f"is longer than {MAX_NAME} characters")
    return name


def _parse_link(value: str) -> str:
    if any(ch.isspace() for ch in value) or len(value) > MAX_LINK:
        raise ValueError(f"{_one_line(value)[:80]} is not a single URL of at most {MAX_LINK} characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in {"http", "https"} or not host:
        raise ValueError(f"{value} is not an absolute http(s) URL")
    return value


def _parse_datetime(value: str) -> datetime:
    if _DATE_SHAPE.fullmatch(value):
        try:
            return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"{value} is not a date") from None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            datetime.strptime(value, "%Y-%m-%d")  # noqa: DTZ007 - only checking that the date exists
        except ValueError:
            raise ValueError(f"{value} is not a date") from None
        raise ValueError(f"{value} has no time (expected YYYY-MM-DD HH:MM:SS, in UTC)")
    raise ValueError(f"{_one_line(value)[:80]} is not a date (expected YYYY-MM-DD HH:MM:SS)")


def _parse_amount(text: str, what: str) -> Decimal:
    shown = text if len(text) <= 80 else text[:80] + "…"
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{what} {shown} is not a number")
    amount = Decimal(text)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{what} {shown} must be greater than zero")
    if amount > MAX_AMOUNT:
        raise ValueError(f"{what} {shown} is more than {MAX_AMOUNT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{what} {shown} has more than two decimal places")
    return amount.quantize(Decimal("0.01"))


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.split("\n") if line.strip()]


def _parse_credits(value: str) -> tuple[CreditLine, ...]:
    credits: dict[str, CreditLine] = {}
    problems = []
    for line in _lines(value):
        match = _CREDIT_LINE.fullmatch(line)
        if match is None:
            problems.append(f"{_quote(line)} is not '<credit type>: <amount> hours'")
            continue
        name = match.group("name").rstrip()
        spec = CREDIT_TYPE_BY_KEY.get(lookup_key(name))
        if spec is None:
            problems.append(f"{_quote(name)} is not a known credit type")
            continue
        if spec.code in credits:
            problems.append(f"{spec.listing_name} appears more than once")
            continue
        try:
            amount = _parse_amount(match.group("amount"), f"{spec.listing_name} amount")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        # Contact hours move in the provider's step, which the importer checks once it knows the provider.
        finest = FINEST_CONTACT_HOUR_INCREMENT if spec.code in CONTACT_HOUR_CREDIT_TYPES else spec.increment
        step = rules.increment_error(amount, finest)
        if step is not None:
            problems.append(f"{spec.listing_name}: {step}")
            continue
        credits[spec.code] = CreditLine(spec.code, amount)
    if problems:
        raise ValueError(_joined(problems))
    if not credits:
        raise ValueError("needs at least one credit line")
    return tuple(credits.values())


def _parse_moc(value: str) -> tuple[MocLine, ...]:
    rows: dict[tuple[str, str], MocLine] = {}
    problems = []
    for line in _lines(value):
        match = _MOC_LINE.fullmatch(line)
        if match is None:
            problems.append(
                f"{_quote(line)} is not '<BOARD> - <points> Points; Credit Type(s): <type> (<BOARD>)'"
            )
            continue
        board = MOC_BOARD_BY_KEY.get(lookup_key(match.group("board")))
        if board is None:
            problems.append(f"{match.group('board')[:80]} is not a known MOC board")
            continue
        try:
            points = _parse_amount(match.group("points"), f"{board} points")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        for item in _split_commas(match.group("types")):
            type_match = _MOC_TYPE.fullmatch(item)
            if type_match is None:
                problems.append(f"{_quote(item)} is not '<MOC credit type> ({board})'")
                continue
            if MOC_BOARD_BY_KEY.get(lookup_key(type_match.group("board"))) != board:
                problems.append(f"{_quote(item)} names a different board than {board}")
                continue
            type_name = type_match.group("type").rstrip()
            moc_type = MOC_CREDIT_TYPE_BY_KEY.get(lookup_key(type_name))
            if moc_type is None:
                problems.append(f"{_quote(type_name)} is not a known MOC credit type")
                continue
            if (board, moc_type) in rows:
                problems.append(f"{board} {type_name[:80]} appears more than once")
                continue
            problem = moc.approval_problem(board, moc_type, points)
            if problem:
                problems.append(problem[1])
                continue
            rows[(board, moc_type)] = MocLine(board, moc_type, points)
    if problems:
        raise ValueError(_joined(problems))
    return tuple(rows.values())


def _parse_yes_no(value: str) -> bool:
    answer = value.strip().lower()
    if answer in {"yes", "no"}:
        return answer == "yes"
    raise ValueError(f"{_one_line(value)[:80]} is not Yes or No")


def _choice(by_key: dict[str, str], what: str):
    def parse(value: str) -> str:
        code = by_key.get(lookup_key(value))
        if code is None:
            raise ValueError(f"{_one_line(value)[:80]} is not {what}")
        return code

    return parse


def _parse_fee(value: str) -> tuple[str, Decimal | None]:
    fee = _one_line(value)
    if fee.lower() == "free":
        return "free", None
    if fee.lower() == "variable":
        return "variable", None
    match = _FEE_DOLLARS.match(fee)
    if match is not None:
        digits = (match.group("a") or match.group("b")).replace(",", "")
        try:
            amount = Decimal(digits)
        except InvalidOperation:
            amount = None
        if amount is not None and amount == amount.quantize(Decimal("0.01")) and amount < Decimal("1000000"):
            return ("free", None) if amount == 0 else ("fixed", amount.quantize(Decimal("0.01")))
    raise ValueError(f"{fee[:80]} is not Free, Variable or an amount such as $25.00 or 25 USD")


def _parse_outcomes(value: str) -> tuple[str, ...]:
    outcomes: list[str] = []
    for item in _split_commas(value):
        code = OUTCOME_BY_KEY.get(lookup_key(item))
        if code is None:
            raise ValueError(f"{item[:80]} is not a measured outcome")
        if code not in outcomes:
            outcomes.append(code)
    return tuple(outcomes)


def _parse_requirements(value: str) -> tuple[PostTestLine | None, bool]:
    """``Post-test <passing score> % [(<N> attempts|unlimited attempts)]`` and ``Evaluation``, comma-separated,
    or ``None``."""
    items = _split_commas(value)
    if [item.lower() for item in items] == ["none"]:
        return None, False
    post_test: PostTestLine | None = None
    evaluation = False
    problems = []
    for item in items:
        if item.lower() == "evaluation":
            if evaluation:
                problems.append("Evaluation appears more than once")
            evaluation = True
        elif _POST_TEST_NAME.match(item):
            try:
                line = _parse_post_test(item)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if post_test is not None:
                problems.append("Post-test appears more than once")
            post_test = line
        else:
            problems.append(
                f"{_quote(item)} is not 'Post-test <passing score> %', 'Evaluation' or 'None'"
                if item.lower() != "none"
                else "None cannot be listed with other requirements"
            )
    if problems:
        raise ValueError(_joined(problems))
    return post_test, evaluation


def _parse_post_test(item: str) -> PostTestLine:
    match = _POST_TEST.fullmatch(item)
    if match is None:
        raise ValueError(
            f"{_quote(item)} is not 'Post-test <passing score> %', optionally followed by "
            "'(<N> attempts)' or '(unlimited attempts)'"
        )
    score = int(match.group("score"))
    if not 1 <= score <= 100:
        raise ValueError(f"the post-test's passing score, {score} %, is not between 1 and 100 %")
    attempts = match.group("attempts")
    if attempts is None or attempts.lower() == "unlimited":
        return PostTestLine(score, None)
    if not 1 <= int(attempts) <= MAX_ATTEMPTS:
        raise ValueError(f"the post-test's attempts, {int(attempts)}, are not between 1 and {MAX_ATTEMPTS}")
    return PostTestLine(score, int(attempts))


def _parse_providership(value: str) -> tuple[str, str]:
    text = _one_line(value)
    lowered = text.lower()
    if lowered == "directly provided":
        return "direct", ""
    if lowered.startswith("jointly provided"):
        partner = _JOINT_PREFIX.sub("", text[len("jointly provided") :].strip()).rstrip(")").strip()
        if len(partner) > MAX_NAME:
            raise ValueError(f"joint provider name is longer than {MAX_NAME} characters")
        return "joint", partner
    raise ValueError(f"{text[:80]} is not Directly Provided or Jointly Provided")


def _parse_registration(value: str) -> tuple[str, str]:
    text = _one_line(value)
    if len(text) > MAX_TITLE:
        raise ValueError(f"is longer than {MAX_TITLE} characters")
    lowered = text.lower()
    if lowered.startswith("open to all"):
        return "open", text
    if lowered.startswith("limited"):
        return "limited", text
    raise ValueError(f"{text[:80]} is not Open to all or Limited")


def _parse_specialties(value: str) -> tuple[str, ...]:
    names: dict[str, str] = {}
    for item in _split_commas(value):
        name = _one_line(item)
        if len(name) > MAX_NAME:
            raise ValueError(f"{name[:40]}… is longer than {MAX_NAME} characters")
        names.setdefault(name.casefold(), name)
    if not names:
        raise ValueError("needs at least one specialty")
    return tuple(names.values())


def _split_commas(value: str) -> list[str]:
    """Split on commas outside parentheses: ``All Practice Areas (e.g. ethics, law)`` stays whole."""
    if "(" not in value:
        return [item for item in (part.strip() for part in _one_line(value).split(",")) if item]
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in _one_line(value):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        if ch == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    items.append("".join(current).strip())
    return [item for item in items if item]
