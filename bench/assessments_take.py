"""Benchmark: a learner taking a 50-question post-test, through the full stack (gunicorn, HTTP, sessions, CSRF).

Makes (once) an activity with a 50-question post-test (single choice, multiple choice and true/false,
unlimited attempts) in the benchmark database, and a fresh signed-in learner enrolled in it per run. Serves
the portal with gunicorn on a free local port and times, interleaved, ``/healthz`` (a trivial view through
the same stack: the floor), the take page (``GET``: the current version checked, the questions in the
attempt's order, the form) and its submission (``POST``: the answers checked and scored under the
enrollment lock, the attempt, its 50 answers and the audit entry written, then the redirect to the result).
Each submission fails the test (30 of 50 right, 80 % needed), so the next attempt is allowed. Prints median
and p95 per request and their ratio to the floor's, and the SQL queries each takes (counted in-process).
No target is asserted: the figures are for the README.

Run with ``make bench`` or ``python bench/assessments_take.py [--repeat R]``.
"""

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, median, percentile, setup_django, table

QUESTIONS = 50
RIGHT = 30
SLUG_MARK = "bench-assessments-take"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_post_test():
    """The benchmark's activity and its 50-question post-test, made once and reused."""
    from datetime import timedelta

    from django.utils import timezone

    from activities.models import Activity, CreditDesignation, CreditType, Provider
    from assessments.models import Assessment, Choice, Question

    activity = Activity.objects.filter(slug=SLUG_MARK).first()
    if activity is not None:
        return activity, Assessment.objects.get(activity=activity, kind="post_test")
    provider, _ = Provider.objects.get_or_create(
        slug=SLUG_MARK, defaults={"name": "Benchmark Assessments Provider"}
    )
    now = timezone.now()
    activity = Activity.objects.create(
        provider=provider,
        slug=SLUG_MARK,
        title="Benchmark: a 50-question post-test",
        summary="An enduring material whose post-test has 50 questions.",
        activity_type="internet_enduring",
        format="online",
        start=now - timedelta(days=30),
        end=now + timedelta(days=700),
        activity_link="https://bench.example.org/assessments-take",
        status=Activity.Status.PUBLISHED,
    )
    CreditDesignation.objects.create(
        activity=activity, credit_type=CreditType.objects.get(pk="ama_pra_1"), max_amount="1.00"
    )
    test = Assessment.objects.create(
        provider=provider,
        activity=activity,
        kind="post_test",
        title="Post-test",
        passing_score=80,
        max_attempts=None,
        show_feedback=True,
    )
    for n in range(1, QUESTIONS + 1):
        kind = "multiple" if n % 10 == 0 else "true_false" if n % 7 == 0 else "single"
        question = Question.objects.create(
            assessment=test,
            position=n,
            kind=kind,
            text=f"Question {n}: which statement about sepsis management holds in case {n}?",
            explanation=f"The guideline's recommendation {n}, with its level of evidence.",
        )
        texts = ["True", "False"] if kind == "true_false" else [f"Answer {c} to question {n}" for c in "ABCD"]
        for position, text in enumerate(texts):
            correct = position == 0 or (kind == "multiple" and position == 1)
            Choice.objects.create(question=question, position=position, text=text, is_correct=correct)
    return activity, test


def learner_session(activity) -> tuple[str, object]:
    """A new learner with a profile, enrolled in ``activity``; their session cookie and enrollment."""
    from django.test import Client

    from learners import services
    from portal.models import User

    user = User.objects.create_user(email=f"bench-take-{uuid.uuid4().hex[:12]}@example.com", password=None)
    profile = services.create_profile(
        user=user, first_name="Bench", last_name="Learner", profession="physician"
    )
    services.update_profile(
        profile=profile,
        first_name="Bench",
        last_name="Learner",
        fields={"degree": "MD"},
        consent=False,
        licenses=[],
        board_ids=[],
    )
    enrollment, _ = services.enroll(learner=user, activity=activity)
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value, enrollment


def responses(version) -> dict[str, list[str]]:
    """The first ``RIGHT`` questions answered correctly, the rest wrongly: a failed attempt."""
    data = {}
    for n, question in enumerate(version.content["questions"]):
        good = n < RIGHT
        picks = [str(c["id"]) for c in question["choices"] if c["correct"] == good]
        data[f"q{question['id']}"] = picks if good else picks[:1]
    return data


def request(port, method, path, *, cookies, body=None) -> tuple[int, float, bytes, list[str]]:
    headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    return response.status, elapsed, content, response.headers.get_all("Set-Cookie") or []


def count_queries(activity, test, take_path_of) -> tuple[int, int, int]:
    """The SQL queries of the floor, one take page and one submission, counted in-process (the latter two for
    a learner of their own)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from assessments.services.versions import current_version

    with CaptureQueriesContext(connection) as floor_queries:
        assert Client().get("/healthz").status_code == 200
    session, enrollment = learner_session(activity)
    client = Client()
    client.cookies["sessionid"] = session
    path = take_path_of(enrollment)
    with CaptureQueriesContext(connection) as get_queries:
        assert client.get(path).status_code == 200
    version = current_version(test)
    data = {**responses(version), "version": str(version.pk)}
    with CaptureQueriesContext(connection) as post_queries:
        status = client.post(path, data).status_code
        assert status == 302, status
    return len(floor_queries), len(get_queries), len(post_queries)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=60)
    args, _ = parser.parse_known_args(argv)  # make bench passes every benchmark the same arguments

    static_root = tempfile.mkdtemp(prefix="cme-bench-static-")
    os.environ["STATIC_ROOT"] = (
        static_root  # the pages link hashed static files: collected before any is served
    )
    setup_django()
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    from django.urls import reverse

    from assessments.services.versions import current_version

    activity, test = ensure_post_test()
    version = current_version(test)

    def take_path_of(enrollment) -> str:
        return reverse("assessments:take", kwargs={"public_id": enrollment.public_id, "kind": "post_test"})

    floor_queries, get_queries, post_queries = count_queries(activity, test, take_path_of)
    session, enrollment = learner_session(activity)
    path = take_path_of(enrollment)
    submission = {**responses(version), "version": [str(version.pk)]}

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    timings: dict[str, list[float]] = {"floor": [], "get": [], "post": []}
    cookies = {"sessionid": session}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/healthz", cookies={})[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)

        def take_page() -> tuple[float, str]:
            status, elapsed, body, set_cookies = request(port, "GET", path, cookies=cookies)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
            for header in set_cookies:
                if header.startswith("csrftoken="):
                    cookies["csrftoken"] = header.split(";", 1)[0].split("=", 1)[1]
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
            assert token, "no CSRF token on the take page"
            return elapsed, token.group(1).decode()

        def submit(token: str) -> float:
            body = urlencode({**submission, "csrfmiddlewaretoken": [token]}, doseq=True)
            status, elapsed, content, _ = request(port, "POST", path, cookies=cookies, body=body)
            if status != 302:
                raise SystemExit(f"POST {path} answered {status}: {content[:500]!r}")
            return elapsed

        for _ in range(5):  # warm up: templates, the database cache, the connection
            request(port, "GET", "/healthz", cookies={})
            submit(take_page()[1])
        for _ in range(args.repeat):  # interleaved, so no request gets a quieter moment than another
            timings["floor"].append(request(port, "GET", "/healthz", cookies={})[1])
            elapsed, token = take_page()
            timings["get"].append(elapsed)
            timings["post"].append(submit(token))
    finally:
        server.terminate()
        server.wait(10)

    from assessments.models import Attempt

    recorded = Attempt.objects.filter(enrollment=enrollment).count()
    floor_median, floor_p95 = median(timings["floor"]), percentile(timings["floor"], 95)
    rows = []
    for key, label, queries in [
        ("floor", "floor: trivial view (/healthz)", str(floor_queries)),
        ("get", f"take page, {QUESTIONS} questions (GET)", str(get_queries)),
        ("post", f"submit {QUESTIONS} answers (POST, then 302)", str(post_queries)),
    ]:
        values = timings[key]
        p50, p95 = median(values), percentile(values, 95)
        rows.append(
            [
                label,
                f"{p50:.1f}",
                f"{p95:.1f}",
                f"{p50 / floor_median:.1f}x",
                f"{p95 / floor_p95:.1f}x",
                queries,
            ]
        )
    print(f"Taking a {QUESTIONS}-question post-test: {args.repeat} rounds through gunicorn (1 worker)")
    print(table(["request", "median ms", "p95 ms", "median vs floor", "p95 vs floor", "queries"], rows))
    print(f"Attempts recorded for the timed learner: {recorded} (warm-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
