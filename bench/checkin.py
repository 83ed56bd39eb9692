"""Benchmark: 500 learners checking in to one session within a minute, through the full stack (gunicorn
with real worker processes, PostgreSQL, HTTP, sessions, CSRF).

Makes a fresh live course per run whose one session is on now, 500 learners with a session cookie each
(prepared beforehand, as if signed in on their phones), 400 of them enrolled beforehand and 100 walk-ins
whom the check-in enrolls, and a coordinator whose screen polls ``screen_state`` every 5 seconds throughout.
Then each learner, at a moment drawn at random within ``--spread`` seconds (50 by default), does what a
phone does: opens the scanned address (``GET /in/<slug>/?c=<code>``, the code on the screen then), taps
"Check in" (``POST`` with the CSRF token, answered by a redirect) and loads the page it redirects to, which
must say "Checked in at". Up to ``--concurrency`` learners are in flight at once.

The floor is ``/healthz`` (a trivial view asking the database ``SELECT 1``) through the same stack, measured
in the same run: 200 requests one after another before the check-ins (quiet), and every 100 ms while they
run (under load). Prints median, p95, p99 and max per request, the p95 ratio to the floors, the throughput,
the errors, and the attendance rows for the session, which must be 500. No timing target is asserted: the
figures are for the README; the run fails only on errors or a wrong count.

Run with ``make bench`` or ``python bench/checkin.py [--learners N] [--spread S] [--concurrency C]
[--workers W]``.
"""

import argparse
import datetime as dt
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, median, percentile, setup_django, table

WALK_IN_SHARE = 0.2
SCREEN_POLL_SECONDS = 5
FLOOR_PROBE_SECONDS = 0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(user) -> str:
    """A signed-in session for ``user`` in the session store, as signing in leaves it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def make_world(learners: int):
    """A course on now, its check-in point, the learners (some enrolled) and the coordinator, with cookies."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from activities.models import Activity, CreditDesignation, Membership, Provider
    from attendance.services.checkin import checkin_for
    from learners.services import enroll
    from portal.models import User

    run = uuid.uuid4().hex[:8]
    provider, _ = Provider.objects.get_or_create(
        slug="bench-checkin", defaults={"name": "Benchmark Check-in Provider"}
    )
    now = timezone.now()
    activity = Activity.objects.create(
        provider=provider,
        slug=f"bench-checkin-{run}",
        title=f"Benchmark: grand rounds check-in {run}",
        summary="A live course whose one session is on now.",
        activity_type="course",
        format="in_person",
        start=now - dt.timedelta(minutes=5),
        end=now + dt.timedelta(hours=1),
        activity_link=f"https://bench.example.org/checkin/{run}",
        status=Activity.Status.PUBLISHED,
    )
    CreditDesignation.objects.create(activity=activity, credit_type_id="ama_pra_1", max_amount="1.00")
    from activities.models import Session

    session = Session.objects.create(
        activity=activity, start=activity.start, end=activity.end, time_zone="UTC", venue="Auditorium"
    )
    point = checkin_for(session)
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(email=f"bench-checkin-{run}-{n}@example.com", password=unusable) for n in range(learners)]
    )
    walk_ins = round(learners * WALK_IN_SHARE)
    for user in users[walk_ins:]:
        enroll(learner=user, activity=activity, at=now)
    coordinator = User.objects.create(
        email=f"bench-checkin-{run}-coordinator@example.com", password=unusable, is_staff=True
    )
    Membership.objects.create(provider=provider, user=coordinator, role=Membership.Role.VIEWER)
    # Two more, for counting queries in-process before the run: a walk-in and one enrolled.
    counted = User.objects.bulk_create(
        [User(email=f"bench-checkin-{run}-counted-{n}@example.com", password=unusable) for n in range(2)]
    )
    enroll(learner=counted[1], activity=activity, at=now)
    cookies = [session_cookie(user) for user in users]
    return (
        session,
        point,
        cookies,
        [session_cookie(u) for u in counted],
        session_cookie(coordinator),
        walk_ins,
    )


def count_queries(point, cookies: list[str]) -> dict[str, int]:
    """The SQL queries of the floor and of a learner's three requests, counted in-process with Django's test
    client, for a walk-in (``cookies[0]``) and an enrolled learner (``cookies[1]``), neither of them among the
    timed learners."""
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    from attendance import codes

    counts: dict[str, int] = {}
    with CaptureQueriesContext(connection) as floor:
        assert TestClient().get("/healthz").status_code == 200
    counts["floor"] = len(floor)
    path = point.get_absolute_url()
    for kind, cookie in (("walk-in", cookies[0]), ("enrolled", cookies[1])):
        client = TestClient()
        client.cookies["sessionid"] = cookie
        code = codes.current_code(point.secret, dt.datetime.now(dt.UTC))
        with CaptureQueriesContext(connection) as scan:
            assert client.get(f"{path}?c={code}").status_code == 200
        with CaptureQueriesContext(connection) as post:
            assert client.post(path, {"code": code}).status_code == 302
        with CaptureQueriesContext(connection) as result:
            assert b"Checked in at" in client.get(path).content
        counts[f"scan {kind}"], counts[f"post {kind}"], counts[f"result {kind}"] = (
            len(scan),
            len(post),
            len(result),
        )
    return counts


class Client:
    """One HTTP request per connection (gunicorn's sync workers close each), timed."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method, path, *, cookies=None, body=None) -> tuple[int, float, bytes, dict]:
        headers = {"Host": "127.0.0.1"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, elapsed, content, {"location": response.getheader("Location", ""),
                                                   "set-cookie": response.headers.get_all("Set-Cookie") or []}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--spread", type=float, default=50.0, help="seconds over which learners arrive")
    parser.add_argument("--concurrency", type=int, default=25, help="learners in flight at most")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--seed", type=int, default=1)
    args, _ = parser.parse_known_args(argv)  # make bench passes every benchmark the same arguments

    static_root = tempfile.mkdtemp(prefix="cme-bench-static-")
    os.environ["STATIC_ROOT"] = static_root  # the pages link hashed static files: collected before serving
    setup_django()
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    from attendance import codes
    from attendance.models import Attendance
    from learners.models import Enrollment

    prepared = time.perf_counter()
    session, point, cookies, counted, coordinator, walk_ins = make_world(args.learners)
    prepared = time.perf_counter() - prepared
    queries = count_queries(point, counted)
    path = point.get_absolute_url()
    state_path = f"/in/screen/{session.pk}/state/"

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    client = Client(port)
    timings: dict[str, list[float]] = {"floor": [], "floor_load": [], "scan": [], "post": [], "result": []}
    timings["whole"], timings["screen"] = [], []
    errors: list[str] = []
    lock = threading.Lock()
    in_flight = {"now": 0, "max": 0}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        for _ in range(20 * args.workers):  # warm up every worker: templates, connections
            client.request("GET", "/healthz")
            client.request("GET", state_path, cookies={"sessionid": coordinator})
        for _ in range(200):
            timings["floor"].append(client.request("GET", "/healthz")[1])

        def learner(cookie: str, at: float) -> None:
            time.sleep(max(0.0, at - time.monotonic()))
            with lock:
                in_flight["now"] += 1
                in_flight["max"] = max(in_flight["max"], in_flight["now"])
            try:
                jar = {"sessionid": cookie}
                code = codes.current_code(point.secret, dt.datetime.now(dt.UTC))  # read off the screen
                status, scan_ms, body, meta = client.request("GET", f"{path}?c={code}", cookies=jar)
                token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
                if status != 200 or token is None or f'value="{code}"'.encode() not in body:
                    raise RuntimeError(f"scan: {status} {body[:200]!r}")
                for header in meta["set-cookie"]:
                    if header.startswith("csrftoken="):
                        jar["csrftoken"] = header.split(";", 1)[0].split("=", 1)[1]
                form = urlencode({"csrfmiddlewaretoken": token.group(1).decode(), "code": code})
                status, post_ms, body, meta = client.request("POST", path, cookies=jar, body=form)
                if status != 302 or meta["location"] != path:
                    raise RuntimeError(f"check in: {status} {meta['location']} {body[:300]!r}")
                status, result_ms, body, _ = client.request("GET", path, cookies=jar)
                if status != 200 or b"Checked in at" not in body:
                    raise RuntimeError(f"result: {status} {body[:200]!r}")
                with lock:
                    timings["scan"].append(scan_ms)
                    timings["post"].append(post_ms)
                    timings["result"].append(result_ms)
                    timings["whole"].append(scan_ms + post_ms + result_ms)
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
            finally:
                with lock:
                    in_flight["now"] -= 1

        stop = threading.Event()

        def probe(kind: str, every: float, request) -> None:
            while not stop.is_set():
                try:
                    status, elapsed, _, _ = request()
                    if status == 200:
                        with lock:
                            timings[kind].append(elapsed)
                    else:
                        with lock:
                            errors.append(f"{kind}: {status}")
                except Exception as exc:
                    with lock:
                        errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                stop.wait(every)

        probes = [
            threading.Thread(target=probe, args=("floor_load", FLOOR_PROBE_SECONDS, lambda: client.request("GET", "/healthz"))),
            threading.Thread(target=probe, args=("screen", SCREEN_POLL_SECONDS, lambda: client.request("GET", state_path, cookies={"sessionid": coordinator}))),
        ]  # fmt: skip
        rng = random.Random(args.seed)
        began = time.monotonic()
        arrivals = sorted(began + rng.uniform(0, args.spread) for _ in cookies)
        for thread in probes:
            thread.start()
        with ThreadPoolExecutor(args.concurrency) as pool:
            for cookie, at in zip(cookies, arrivals, strict=True):
                pool.submit(learner, cookie, at)
        elapsed = time.monotonic() - began
        stop.set()
        for thread in probes:
            thread.join(10)
        final = client.request("GET", state_path, cookies={"sessionid": coordinator})[2]
    finally:
        server.terminate()
        server.wait(10)

    import json

    # The two learners whose queries were counted in-process checked in too.
    attended = (
        Attendance.objects.filter(session=session)
        .exclude(enrollment__learner__email__contains="-counted-")
        .count()
    )
    enrolled = Enrollment.objects.filter(activity=session.activity).count()
    screen_count = json.loads(final)["count"]
    floor_p95 = percentile(timings["floor"], 95)
    load_p95 = percentile(timings["floor_load"], 95)
    rows = []
    for key, label, sql in [
        ("floor", "floor: /healthz, quiet (200 in a row, before)", str(queries["floor"])),
        ("floor_load", "floor: /healthz during the check-ins (every 100 ms)", str(queries["floor"])),
        ("scan", "scan: GET /in/<slug>/?c=<code>", f"{queries['scan enrolled']}"),
        (
            "post",
            "check in: POST, then 302",
            f"{queries['post enrolled']} ({queries['post walk-in']} walk-in)",
        ),
        ("result", "result page: GET after the redirect", f"{queries['result enrolled']}"),
        ("whole", "a learner's three requests together", ""),
        ("screen", "screen state: GET, every 5 s", ""),
    ]:
        values = timings[key]
        if not values:
            rows.append([label, "0", "-", "-", "-", "-", "-", "-", sql])
            continue
        p95 = percentile(values, 95)
        rows.append(
            [
                label,
                str(len(values)),
                f"{median(values):.1f}",
                f"{p95:.1f}",
                f"{percentile(values, 99):.1f}",
                f"{max(values):.1f}",
                f"{p95 / floor_p95:.1f}x",
                f"{p95 / load_p95:.1f}x",
                sql,
            ]
        )
    requests = len(timings["scan"]) + len(timings["post"]) + len(timings["result"])
    print(
        f"{args.learners} learners checking in to one session ({walk_ins} of them walk-ins), arriving at random "
        f"over {args.spread:.0f} s, at most {args.concurrency} at once (reached {in_flight['max']}); gunicorn with "
        f"{args.workers} sync workers on PostgreSQL, {os.cpu_count()} CPUs shared with the load generator"
    )
    print(f"Prepared in {prepared:.1f} s (learners, enrollments, session cookies)")
    print(
        table(
            ["request", "n", "median ms", "p95 ms", "p99 ms", "max ms", "p95 vs quiet floor", "p95 vs floor under load", "queries"],
            rows,
        )
    )  # fmt: skip
    print(
        f"Check-ins done in {elapsed:.1f} s: {len(timings['post']) / elapsed:.1f} check-ins/s, "
        f"{requests / elapsed:.1f} learner requests/s"
    )
    print(f"Errors: {len(errors)}")
    for error in errors[:10]:
        print("   ", error)
    print(
        f"Attendance rows for the session: {attended} (expected {args.learners}); enrollments: {enrolled}; "
        f"the screen's count at the end: {screen_count} (with the 2 counted in-process)"
    )
    return 0 if not errors and attended == args.learners and screen_count == attended + 2 else 1


if __name__ == "__main__":
    sys.exit(main())
