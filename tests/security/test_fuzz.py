"""Hostile values in every parameter of every endpoint, as every kind of visitor: never a 5xx.

The endpoints come from the URLconf (``get_resolver()``), each path argument filled with a real object of
the portal (the activity's slug, the certificate's verification id, each admin model's first object), so
a new URL is covered as soon as it exists. The parameters come from the pages themselves, as each persona
sees them: every form's fields (file inputs included), every link's query parameters, every admin
autocomplete widget's own parameters, plus the filter and form classes of the endpoints that show no form
(the JSON API, the transcript downloads) and the admin's changelist parameters. The values are NUL, very
long text, far, negative and malformed dates, Unicode digits, ``../``, huge and negative numbers, empty
values, repeated parameters, non-UTF-8 percent escapes and markup; uploads get CSVs with NUL, oversized
fields, non-UTF-8 bytes and digits in other scripts.

The four personas are an anonymous visitor, a learner with a completed claim and a certificate, an editor
at provider A, and accreditation staff. Every request runs inside a savepoint that is rolled back, with the
persona's cookies restored afterwards, so a POST that happens to succeed (a save, a sign-out) changes
nothing for the requests that follow. Rate-limit counters are cleared before each request, so limits do not
hide the code behind them.

Each persona is at home somewhere (see ``at_home``): visitors and learners outside the admin, the editor in
the provider-scoped admin pages, accreditation staff in the rest of the admin, both staff in the admin views
the portal wrote itself. At home every parameter gets each AT_ONCE value together, then a few HOSTILE values
alone (a different few for each persona and parameter), and each endpoint also gets other methods, raw
query strings and hostile path arguments; away from home a persona sends the page's own request and one
request with every parameter hostile. The catalog, the API, the transcript and the verification lookup also
get Hypothesis-drawn combinations. What the fuzz once found is kept as one request each in
``test_admin_refuses_what_a_field_cannot_hold``.
"""

import logging
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib import admin as django_admin
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    TO_FIELD_VAR,
)
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.filters import CatalogFilter, PageForm
from activities.models import Activity, CreditType, Membership, Session
from attendance.models import Attendance, SessionCheckin
from attendance.services.checkin import checkin_for
from learners import services
from learners.forms import BoardIdFormSet, LicenseFormSet, TranscriptForm
from learners.models import Certificate, Destination, Enrollment, ExportBatch, ReportingEntry
from learners.services import certificates
from learners.services.reporting import exports
from portal.admin import PortalFormFields, ProviderScopedAdmin
from tests.factories import ActivityFactory, SpecialtyFactory, make_assessment
from tests.helpers import attend, complete, make_learner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet_error_log():
    """Every 5xx is reported by the test itself; Django's error log would repeat each one in full."""
    logger = logging.getLogger("django.request")
    logger.disabled = True
    yield
    logger.disabled = False


@dataclass(frozen=True)
class Raw:
    """A value sent exactly as written, already percent-encoded (``%ff`` is not UTF-8)."""

    text: str


HOSTILE: list = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "9999-12-31",
    "0001-01-01",
    "-2024-01-01",
    "2024-02-30",
    "99999-12-31",
    "2024-01-01T25:61:00",
    "²",
    "٣",
    "1²",
    "../../../etc/passwd",
    "..%2F..%2Fetc",
    "9" * 40,
    "-1",
    "0",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "Infinity",
    "0x1F",
    "",
    " ",
    "\t\r\n",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%s%n{0}{{x}}",
    "😀\u202e\ufeff",
    "true",
    "null",
    ["1", "2"],
    ["", "9999-12-31"],
    Raw("%ff%fe"),
    Raw("%c0%af"),
    Raw("%"),
]
# What a path argument may be; the resolver decides which reach a view (``int`` takes only ASCII digits).
PATH_VALUES = ["\x00", "x" * 2000, "²", "..", "9" * 40, "-1", Raw("%ff"), Raw("%c0%af"), "a b", "😀"]
GENERIC_PATH_VALUES = ["²", "9" * 40]
# Extra query strings, sent whole, for every endpoint.
RAW_QUERIES = ["%ff=%fe", "a=%ff%fe&a=%00", "=&=&&", "a[]=1&a[]=2&a[x]=3", "%=%%&%zz", "x" * 8000 + "=1"]
# Parameters every view might read without showing them in a form.
GENERIC_PARAMS = ["next", "page", "q", "id", "format"]
CHANGELIST_PARAMS = [
    ALL_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ERROR_FLAG,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IS_FACETS_VAR,
]
OBJECT_PARAMS = ["_changelist_filters", IS_POPUP_VAR, TO_FIELD_VAR]
HOSTILE_FILES = [
    ("returned.csv", b"row_id,status,reason\r\n1,accepted,\x00\r\n"),
    ("big-field.csv", b'row_id,status,reason\r\n1,rejected,"' + b"x" * 200_000 + b'"\r\n'),
    ("latin1.csv", "row_id,status,reason\r\n1,rejected,Müller\r\n".encode("latin-1")),
    ("digits.csv", "row_id,status,reason\r\n²,accepted,\r\n٣,rejected,no\r\n".encode()),
    ("huge.csv", b"row_id,status,reason\r\n99999999999999999999999999,accepted,\r\n-1,accepted,\r\n"),
    ("quote.csv", b'row_id,status,reason\r\n"1,accepted\r\n'),
    ("empty.csv", b""),
    ("bom-only.txt", b"\xef\xbb\xbf"),
    ("listing.txt", b"Title: \x00\nProvider: Provider A\nStart Date: 9999-12-31\n"),
    ("../../etc/passwd", b"Title: x\n"),
    ("x" * 300 + ".txt", b"Title: x\n"),
]
# Every parameter of a target gets each of these at once; then each parameter gets PER_PARAMETER values of
# HOSTILE alone, a different few for each parameter and persona, so the personas together try more pairs.
AT_ONCE = [
    "\x00",
    "x" * 5000,
    "9999-12-31",
    "2024-02-30",
    "²",
    "9" * 40,
    "-1",
    "",
    ["1", "2"],
    Raw("%ff%fe"),
]
PER_PARAMETER = {"anonymous": 2, "learner": 2, "editor": 1, "accreditor": 1}  # the admin's forms are many
# Away from home (a visitor in the admin, staff on the learner pages) a persona sends only these, at once.
AWAY = ["", "9999-12-31", "²", Raw("%ff%fe")]

# Endpoints that show no form: their parameters come from the classes that validate them.
DECLARED = {
    "activities:catalog": [CatalogFilter, PageForm],
    "api:activity_list": [CatalogFilter, PageForm],
    "learners:transcript": [TranscriptForm],
    "learners:transcript_csv": [TranscriptForm],
    "learners:transcript_pdf": [TranscriptForm],
    "learners:verify_lookup": ["code"],
}


def declared_params(name: str) -> set[str]:
    found: set[str] = set()
    for source in DECLARED.get(name, []):
        if isinstance(source, str):
            found.add(source)
        elif hasattr(source, "base_filters"):
            found |= set(source.base_filters)
        else:
            found |= set(source.base_fields)
    if name.startswith("admin:") and name.endswith("_changelist"):
        found |= set(CHANGELIST_PARAMS)
    if name.startswith("admin:") and name.endswith(("_change", "_add", "_delete", "_history")):
        found |= set(OBJECT_PARAMS)
    return found


# The URLconf

GROUP = r"\(\?P<(?P<name>\w+)>[^)]*\)"  # a regex pattern's named group
ARGUMENT = r"<(?:\w+:)?(?P<name>\w+)>"  # a route's <converter:name>
# Django's own admin views: the same code for every model, so they get the parameters found on their pages
# and a few hostile path arguments, not every method and raw query string the portal's own views get.
GENERIC_VIEWS = ("django.contrib.admin.options", "django.contrib.admin.sites", "django.views.generic.base")


@dataclass
class Endpoint:
    route: str  # the patterns' text joined, e.g. "me/certificates/<str:verification_id>.pdf"
    name: str  # "learners:certificate_pdf"; "" for unnamed patterns
    generic: bool

    @property
    def args(self) -> list[str]:
        groups = re.findall(GROUP, self.route)
        return groups + re.findall(ARGUMENT, re.sub(GROUP, "", self.route))

    def path(self, values: dict[str, object]) -> str:
        """The path with ``values`` in its arguments (percent-encoded here unless ``Raw``)."""

        def value(match):
            given = values[match.group("name")]
            return given.text if isinstance(given, Raw) else quote(str(given), safe="")

        text = re.sub(ARGUMENT, value, re.sub(GROUP, value, self.route))
        return "/" + text.replace("^", "").replace("$", "")


def endpoints() -> list[Endpoint]:
    found = []

    def walk(resolver, prefix: str, namespace: str):
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern, route, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or "")
                module = getattr(pattern.callback, "__module__", "")
                found.append(Endpoint(route, name, generic=module in GENERIC_VIEWS))

    walk(get_resolver(), "", "")
    # Views that end something (signing out, deleting) last, so nothing before them depends on what they did.
    return sorted(found, key=lambda e: ("logout" in e.route or "delete" in e.route, e.route))


# The portal's data, made through its services


@dataclass
class World:
    activity: Activity
    open_enrollment: Enrollment
    certificate: Certificate
    checkin: SessionCheckin
    users: dict


@pytest.fixture
def world(
    provider_a, provider_b, staff_a, accreditor, learner_a, django_capture_on_commit_callbacks
) -> World:
    specialty = SpecialtyFactory(name="Anesthesiology")
    activity = ActivityFactory(
        provider=provider_a,
        title="Intrathecal drug delivery",
        credits={"ama_pra_1": "1.50", "pharmacy": "1.50"},
        moc=[("ABIM", "medical_knowledge", "1.50")],
        specialties=[specialty],
        accreditor_activity_id="123456789",
    )
    activity.credits.filter(credit_type="pharmacy").update(
        activity_number="0197-0000-26-001-L01-P", acpe_activity_type="knowledge"
    )
    provider_a.accme_provider_id = "1234567"
    provider_a.save(update_fields=["accme_provider_id"])
    ActivityFactory(provider=provider_b, title="Provider B activity")
    other = ActivityFactory(provider=provider_a, title="Airway management")
    # The open enrollment's post-test, for its take page; it gates nothing, so the claim form stays.
    make_assessment(other, "post_test", required_for="nothing")
    make_learner(learner_a, board_ids=[("ABIM", "ABIM-448812")], birth_month=7, birth_day=4, consent=True)
    EmailAddress.objects.create(user=learner_a, email=learner_a.email, verified=True, primary=True)
    done = complete(learner_a, activity, moc_boards=["ABIM"])
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificates.issue_certificate(enrollment=done)
    open_enrollment, _ = services.enroll(learner=learner_a, activity=other)
    # A live activity's session with an attendance, for the session attendance pages.
    live = ActivityFactory(
        provider=provider_a, title="Grand rounds", activity_type="course", format="in_person"
    )
    attend(learner_a, live.sessions.get())
    batch = exports.export_entries(
        entries=ReportingEntry.objects.all(),
        destination=Destination.ACCREDITOR,
        by=accreditor,
        description="x",
    )
    assert batch is not None and Certificate.objects.exists()
    # A live course's session happening now, and its check-in point: the screen and the learner's page.
    now = timezone.now()
    workshop = ActivityFactory(
        provider=provider_a,
        title="Ultrasound workshop",
        activity_type="course",
        format="in_person",
        start=now - timedelta(minutes=10),
        end=now + timedelta(hours=1),
    )
    return World(
        activity=activity,
        open_enrollment=open_enrollment,
        certificate=certificate,
        checkin=checkin_for(workshop.sessions.get()),
        users={"anonymous": None, "learner": learner_a, "editor": staff_a, "accreditor": accreditor},
    )


def valid_path_values(endpoint: Endpoint, world: World) -> dict[str, str]:
    values = {
        "slug": world.activity.slug,
        "public_id": str(world.open_enrollment.public_id),
        "verification_id": world.certificate.verification_id,
        "number": "1",
        "kind": "post-test",
        "activity_id": str(world.activity.pk),
        "content_type_id": str(ContentType.objects.get_for_model(Activity).pk),
        "object_id": str(world.activity.pk),
        "id": str(world.users["learner"].pk),
        "app_label": "activities",
        "url": "nothing-here/",
        "key": "abc",
        "uidb36": "1",
        # The session attendance pages: the first session, its first attendance, the open enrollment.
        "session_id": str(Session.objects.order_by("pk").values_list("pk", flat=True).first() or 1),
        "attendance_id": str(Attendance.objects.order_by("pk").values_list("pk", flat=True).first() or 1),
        "enrollment_id": str(world.open_enrollment.pk),
    }
    if endpoint.route.startswith("in/"):  # the check-in pages: the short address and the session
        values["slug"] = world.checkin.slug
        values["session_id"] = str(world.checkin.session_id)
    model = re.search(r"admin/(\w+)/(\w+)/<path:object_id>", endpoint.route)
    if model:
        obj = apps.get_model(model[1], model[2])._default_manager.order_by("pk").first()
        values["object_id"] = str(obj.pk) if obj else "1"
    return {name: values[name] for name in endpoint.args}


# Reading the pages: forms, links, autocompletes


@dataclass
class Target:
    method: str
    path: str
    fixed: dict[str, list[str]] = field(default_factory=dict)  # sent with every request, as the page does
    params: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


class _Page(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Target] = []
        self.links: list[tuple[str, list[tuple[str, str]]]] = []
        self.autocompletes: list[Target] = []
        self._form: Target | None = None
        self._select: tuple[str, list[str], list[str], bool] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(urljoin(self.url, a.get("action") or self.url))
            self._form = Target(a.get("method", "get").lower() or "get", action.path)
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            link = urlsplit(urljoin(self.url, a["href"]))
            if link.netloc in ("", "testserver"):
                self.links.append((link.path, parse_qsl(link.query, keep_blank_values=True)))
        elif tag in ("input", "button") and a.get("name") and self._form is not None:
            kind = a.get("type", "text").lower()
            self._form.params.add(a["name"])
            if kind == "file":
                self._form.files.add(a["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fixed.setdefault(a["name"], []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                self._form.fixed.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [], [], "multiple" in a)
            if a.get("data-ajax--url"):
                fixed = {
                    k: [a[f"data-{k.replace('_', '-')}"]] for k in ("app_label", "model_name", "field_name")
                }
                path = urlsplit(urljoin(self.url, a["data-ajax--url"])).path
                self.autocompletes.append(Target("get", path, fixed, {*fixed, "term", "page"}))
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
            if "selected" in a:
                self._select[2].append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            if self._form is not None:
                self._form.params.add(a["name"])
                self._form.fixed.setdefault(a["name"], []).append("")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, options, selected, multiple = self._select
            if self._form is not None:
                self._form.params.add(name)
                chosen = selected or ([] if multiple else options[:1])
                if chosen:
                    self._form.fixed[name] = chosen
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None and data.strip():
            self._form.fixed[self._textarea] = [data]


# Sending


def query(pairs: list[tuple[str, object]]) -> str:
    parts = []
    for name, value in pairs:
        for one in value if isinstance(value, list) else [value]:
            text = one.text if isinstance(one, Raw) else quote(str(one), safe="")
            parts.append(f"{quote(name, safe='')}={text}")
    return "&".join(parts)


def where(exc_info) -> str:
    """The exception and the innermost line of the portal's own code (or Django's) it came through."""
    if not exc_info:
        return "no exception recorded"
    _, exc, tb = exc_info
    frames = traceback.extract_tb(tb)
    own = [f for f in frames if "/site-packages/" not in f.filename] or frames
    frame = own[-1]
    return f"{type(exc).__name__}: {str(exc)[:120]} at {frame.filename.rsplit('/work/main/', 1)[-1]}:{frame.lineno}"


class Visitor:
    """One persona's client; every request in a rolled-back savepoint, cookies restored after it."""

    def __init__(self, user):
        self.client = Client(raise_request_exception=False)
        if user is not None:
            self.client.force_login(user)
        self.failures: dict[str, list[str]] = {}  # cause -> requests
        self.tracebacks: dict[str, str] = {}
        self.count = 0

    def send(self, method: str, path: str, pairs=(), files=None, raw: str | None = None) -> int:
        pairs = list(pairs)
        caches["default"].clear()
        saved = SimpleCookie()
        saved.load(self.client.cookies.output(header="", sep=";"))
        with transaction.atomic():
            if method == "post" and raw is None and not any(isinstance(v, Raw) for _, v in pairs):
                data: dict[str, list] = {}
                for name, value in pairs:
                    data.setdefault(name, []).extend(value if isinstance(value, list) else [value])
                response = self.client.post(path, {**data, **(files or {})})
            elif method == "post":
                body = raw if raw is not None else query(pairs)
                response = self.client.post(path, body, content_type="application/x-www-form-urlencoded")
            else:
                text = raw if raw is not None else query(pairs)
                response = self.client.generic(method.upper(), f"{path}?{text}" if text else path)
            transaction.set_rollback(True)
        self.client.cookies = saved
        self.count += 1
        self.check(response, method, path, raw if raw is not None else query(pairs), files)
        return response.status_code

    def check(self, response, method: str, path: str, shown: str = "", files=None) -> None:
        if response.status_code < 500:
            return
        sent = f"{response.status_code} {method.upper()} {path}?{shown[:200]}"
        if files:
            sent += f" files={[(n, f.name[:40]) for n, f in files.items()]}"
        cause = where(response.exc_info)
        self.failures.setdefault(cause, []).append(sent)
        if response.exc_info and cause not in self.tracebacks:
            frames = traceback.extract_tb(response.exc_info[2])
            shown_frames = [f for f in frames[:-1] if "/site-packages/" not in f.filename] + frames[-1:]
            self.tracebacks[cause] = "".join(traceback.format_list(shown_frames))

    def report(self) -> str:
        lines = [
            f"{sum(map(len, self.failures.values()))} requests answered 5xx, for {len(self.failures)} causes:"
        ]
        for cause, sent in self.failures.items():
            lines += [f"- {cause} ({len(sent)} requests), e.g.", *(f"    {s}" for s in sent[:3])]
            lines += [f"      {line}" for line in self.tracebacks.get(cause, "").splitlines()]
        return "\n".join(lines)


def collapse(names: set[str]) -> set[str]:
    """Formset fields once, as the first form's: ``credits-0-max_amount`` stands for every ``credits-N-``."""
    return {name for name in names if not re.search(r"-[1-9]\d*-", name)}


MANAGEMENT_FORM = re.compile(r"-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$")


def fits(name: str, value) -> bool:
    """Whether to send ``value`` in ``name``. A formset's form count is sent only as numbers below a
    thousand: a larger one makes Django build a thousand forms (seconds per request), which
    ``test_formsets_build_a_bounded_number_of_forms`` checks once instead."""
    if not MANAGEMENT_FORM.search(name) or not isinstance(value, str):
        return True
    return not re.fullmatch(r"\s*\+?\d{4,}\s*", value)


def form_of(target: Target) -> str:
    """The form a target posts: an admin model's add and change pages post the same one."""
    return target.method + " " + re.sub(r"/(add|[^/]+/change)/$", "/<form>/", target.path)


def plans(target: Target, persona: str, *, home: bool, covered: set) -> Iterator[tuple[list, dict | None]]:
    """What to send to ``target``: ``(pairs, files)`` for each request. Every parameter gets each value of
    AT_ONCE together (of AWAY, away from the persona's ``home``); at home, each parameter also gets
    PER_PARAMETER values of HOSTILE alone, and each file input every hostile file."""
    fixed = list(target.fixed.items())
    names = sorted(collapse(target.params - target.files))
    every = sorted(set(names) | set(GENERIC_PARAMS))
    # Django's own admin pages read their query strings through Django's code: AWAY is enough at once there.
    thorough = home and not (target.method == "get" and is_generic(target.path))
    form = form_of(target)
    if (form, "") in covered:
        home = False  # this form was sent everything at its other address (an admin add or change page)
    covered.add((form, ""))
    if not home:  # one request, every parameter with one of AWAY
        yield (
            [(name, AWAY[i % len(AWAY)]) for i, name in enumerate(every) if fits(name, AWAY[i % len(AWAY)])],
            None,
        )
        return
    for value in AT_ONCE if thorough else AWAY:
        yield [(name, value) for name in every if fits(name, value)], None
    for index, name in enumerate(names):
        if (form, name) in covered:
            continue  # the add and change forms of one model share their fields
        covered.add((form, name))
        rest = [(n, v) for n, v in fixed if n != name]
        per = PER_PARAMETER[persona]
        for k in range(per):
            position = (PERSONAS.index(persona) * len(names) + index) * per + k
            value = HOSTILE[position % len(HOSTILE)]
            if fits(name, value):
                yield [*rest, (name, value)], None
    for name in sorted(target.files):
        rest = [(n, v) for n, v in fixed if n != name]
        for filename, content in HOSTILE_FILES:
            yield rest, {name: SimpleUploadedFile(filename, content, content_type="text/csv")}


PERSONAS = ["anonymous", "learner", "editor", "accreditor"]
STAFF = {"editor", "accreditor"}


def at_home(persona: str, path: str) -> bool:
    """Where ``persona`` sends everything; elsewhere it sends the crawl's request and one of AWAY. Visitors
    and learners are at home outside the admin (and at its sign-in). In the admin, both staff personas are at
    home in the views the portal wrote itself and in the autocomplete (each sees its own scope there); the
    editor in the provider-scoped models' pages, accreditation staff in all others (Django's add, change and
    list views are the same code for both)."""
    if path.startswith("/admin/login/"):
        return persona == "anonymous"
    if not path.startswith("/admin/"):
        return persona not in STAFF
    if persona not in STAFF:
        return False
    if path == "/admin/autocomplete/" or not is_generic(path):
        return True
    return is_scoped(path) == (persona == "editor")


def is_scoped(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return isinstance(getattr(match.func, "model_admin", None), ProviderScopedAdmin)


def is_generic(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return True
    return getattr(match.func, "__module__", "") in GENERIC_VIEWS


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_endpoint_answers_5xx_to_hostile_input(world, persona):
    visitor = Visitor(world.users[persona])
    targets: dict[tuple[str, str], Target] = {}
    known_paths: set[str] = set()

    def add(target: Target):
        key = (target.method, target.path)
        if key not in targets:
            targets[key] = target
        else:
            targets[key].params |= target.params
            targets[key].files |= target.files

    for endpoint in endpoints():
        valid = valid_path_values(endpoint, world)
        path = endpoint.path(valid)
        known_paths.add(path)
        # The page as it is: its forms, links and autocompletes give the parameters.
        response = visitor.client.get(path)
        visitor.check(response, "get", path)
        add(Target("get", path, params=declared_params(endpoint.name)))
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            page = _Page(f"http://testserver{path}")
            page.feed(response.content.decode("utf-8", "replace"))
            for target in [*page.forms, *page.autocompletes]:
                add(target)
            for link_path, pairs in page.links:
                if pairs:
                    add(Target("get", link_path, params={name for name, _ in pairs}))
        if not at_home(persona, path):
            continue
        if not endpoint.generic:
            for method in ("post", "put", "options"):
                visitor.send(method, path)
            for raw in RAW_QUERIES:
                visitor.send("get", path, raw=raw)
        # Hostile path arguments, one at a time.
        for name in endpoint.args:
            for value in GENERIC_PATH_VALUES if endpoint.generic else PATH_VALUES:
                visitor.send("get", endpoint.path({**valid, name: value}))

    covered: set[tuple[str, str]] = set()
    for target in targets.values():
        if target.method == "get" and target.path not in known_paths:
            continue  # a link to another object's page: the same view as one already covered
        home = at_home(persona, target.path)
        for pairs, files in plans(target, persona, home=home, covered=covered):
            visitor.send(target.method, target.path, pairs, files)

    print(f"{persona}: {visitor.count} requests to {len(targets)} targets")
    assert not visitor.failures, visitor.report()


# Drawn combinations on the public and learner surfaces

CATALOG_PARAMS = sorted(declared_params("api:activity_list"))
value = st.one_of(
    st.sampled_from([v for v in HOSTILE if isinstance(v, str)]),
    st.text(max_size=40),
    st.dates().map(str),
    st.integers().map(str),
    st.decimals(allow_nan=True).map(str),
)
params = st.dictionaries(st.sampled_from(CATALOG_PARAMS), value, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=params)
def test_catalog_and_api_never_answer_5xx(world, params):
    visitor = Visitor(None)
    for path in ("/activities/", "/api/activities/"):
        visitor.send("get", path, list(params.items()))
    assert not visitor.failures, visitor.report()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(st.sampled_from(["start", "end", "credit_type"]), value, max_size=3),
    code=value,
)
def test_transcript_and_verification_never_answer_5xx(world, params, code):
    visitor = Visitor(world.users["learner"])
    for path in ("/me/transcript/", "/me/transcript.csv", "/me/transcript.pdf"):
        visitor.send("get", path, list(params.items()))
    visitor.send("get", "/verify/", [("code", code)])
    visitor.send("get", f"/verify/{quote(code, safe='')}/")
    assert not visitor.failures, visitor.report()


def form_data(client, path: str) -> dict[str, list[str]]:
    """What the page's main form would post unchanged."""
    page = _Page(f"http://testserver{path}")
    page.feed(client.get(path).content.decode())
    return next(
        form.fixed for form in page.forms if form.method == "post" and form.params - {"csrfmiddlewaretoken"}
    )


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        # Django's autocomplete re-renders a refused form by looking the posted value up as an id.
        ("membership", "user", "x"),
        ("membership", "user", "²"),
        ("export", "activity", "x"),
        # A related object chosen by a number too large for SQLite's INTEGER (OverflowError there).
        ("activity", "provider", "9" * 40),
        ("activity", "specialties", "9" * 40),
        ("membership", "user", "9" * 40),
        ("export", "activity", "-" + "9" * 40),
        # JSON that Python reads and neither database stores, or that Python cannot read.
        ("credittype", "professions", "NaN"),
        ("credittype", "professions", '["physician", Infinity]'),
        ("credittype", "professions", "[1e999]"),
        ("credittype", "professions", "1" * 5000),
        ("credittype", "professions", "[" * 50_000),
        ("activity", "measured_outcomes", "-Infinity"),
    ],
)
def test_admin_refuses_what_a_field_cannot_hold(world, path, field, value):
    """Each was a 500 the fuzz found: now a form error on the field, and nothing written."""
    client = Visitor(world.users["accreditor"]).client
    membership = Membership.objects.first()
    url = {
        "membership": f"/admin/activities/membership/{membership.pk}/change/",
        "activity": f"/admin/activities/activity/{world.activity.pk}/change/",
        "credittype": "/admin/activities/credittype/aapa/change/",
        "export": "/admin/learners/reportingentry/export/",
    }[path]
    data = {"custom": ["1"], "destination": ["accreditor"]} if path == "export" else form_data(client, url)
    before = (
        list(Membership.objects.values()),
        list(Activity.objects.values()),
        list(CreditType.objects.values()),
        ExportBatch.objects.count(),
    )
    response = client.post(url, {**data, field: [value]})
    assert response.status_code == 200
    forms = [
        f
        for f in (
            response.context.get("adminform") and response.context["adminform"].form,
            response.context.get("form"),
        )
        if f
    ]
    assert any(field in form.errors for form in forms), [form.errors for form in forms]
    assert (
        list(Membership.objects.values()),
        list(Activity.objects.values()),
        list(CreditType.objects.values()),
        ExportBatch.objects.count(),
    ) == before


def test_every_admin_has_the_portals_form_fields():
    """Admins registered by other apps (Django's groups, allauth's email addresses) included."""
    registry = django_admin.site._registry
    assert all(isinstance(a, PortalFormFields) for a in registry.values())
    for model_admin in registry.values():
        for inline in model_admin.inlines:
            assert issubclass(inline, PortalFormFields), inline


def test_formsets_build_a_bounded_number_of_forms():
    """A POST may say it carries any number of forms; Django builds up to max_num + 1000 of them (seconds
    of work and megabytes of page for one request), unless absolute_max says fewer."""
    assert LicenseFormSet.absolute_max <= 100
    assert BoardIdFormSet.absolute_max <= 100


def test_the_fuzz_reaches_every_kind_of_endpoint(world):
    """The discovery finds what it is meant to: if these go, the fuzz test above has gone blind."""
    names = {e.name for e in endpoints()}
    assert {
        "activities:catalog",
        "api:activity_list",
        "learners:transcript_csv",
        "admin:autocomplete",
        "attendance:checkin",
        "attendance:screen",
        "attendance:screen_state",
    } <= names
    assert "learners_reportingentry_returned" in " ".join(names)
    visitor = Visitor(world.users["accreditor"])
    page = _Page("http://testserver/admin/learners/reportingentry/export/")
    page.feed(visitor.client.get("/admin/learners/reportingentry/export/").content.decode())
    assert any(t.path == "/admin/autocomplete/" for t in page.autocompletes)
    page = _Page("http://testserver/admin/learners/reportingentry/returned/")
    page.feed(visitor.client.get("/admin/learners/reportingentry/returned/").content.decode())
    assert any("file" in form.files for form in page.forms)
    # The check-in pages are reached with real path arguments: the learner's form and the staff screen.
    checkin = world.checkin.get_absolute_url()
    page = _Page(f"http://testserver{checkin}")
    page.feed(Visitor(world.users["learner"]).client.get(checkin).content.decode())
    assert any(form.path == checkin and "code" in form.params for form in page.forms)
    screen = f"/in/screen/{world.checkin.session_id}/"
    assert visitor.client.get(screen).status_code == 200
