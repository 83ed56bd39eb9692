"""Benchmark: certificate PDFs rendered per second, and certificates emailed per second end to end.

1. Rendering: the certificate PDF of varied snapshots (names in Latin, Vietnamese and Chinese scripts) in
   one process. Target: at least 50 a second.
2. End to end: 2,000 claims made through the claim service on PostgreSQL; each commit queues its certificate
   on Redis; two ``celery worker`` processes issue the certificates and email them, PDF attached, to a local
   SMTP sink. Twice: with the claims made while the workers run (first claim to last email; the claims
   compete with the workers for the same two cores), and with 2,000 claims queued first and drained by the
   workers (first email to last). The ratio of the drain time to what rendering alone takes in one process
   is the machinery's cost (target: no more than 1.5x rendering).

Run with ``make bench`` or ``python bench/certificates.py [--claims N]``.
"""

import argparse
import os
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table

TARGET_RENDERS = 50
TARGET_RATIO = 1.5
NAMES = ["Łukasz Żółć", "Nguyễn Thị Minh Khai", "José Ångström", "王小明", "Jane Doe", "Ada Okonkwo"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(n: int) -> dict:
    name = NAMES[n % len(NAMES)]
    return {
        "kind": "credit",
        "title": "Certificate of Credit",
        "learner_name": f"{name}, MD",
        "profession": "Physician (MD/DO)",
        "provider": "StatPearls, LLC",
        "accreditation_statement": "In support of improving patient care, StatPearls, LLC is jointly accredited by "
        "the ACCME, the ACPE and the ANCC to provide continuing education for the healthcare team.",
        "joint_providership": "",
        "activity_title": f"Intrathecal drug delivery: indications, equipment and technique ({n})",
        "activity_type": "Internet Enduring Material",
        "format": "Online Learning",
        "location": "",
        "activity_dates": "Released Sep 1, 2023, credit until Sep 1, 2026",
        "start": "2023-09-01T05:00:00+00:00",
        "end": "2026-09-01T05:00:00+00:00",
        "completed_on": "2026-11-20",
        "claimed_on": "2026-11-20",
        "issued_on": "2026-11-20",
        "credits": [
            {
                "type": "AMA PRA Category 1 Credit™",
                "code": "ama_pra_1",
                "amount": "1.50",
                "unit": "credits",
                "statement": "StatPearls, LLC designates this enduring material for a maximum of 1.50 AMA PRA "
                "Category 1 Credit(s)™. Physicians should claim only the credit commensurate with the extent "
                "of their participation in the activity.",
                "activity_number": "",
            }
        ],
        "ama_designation": "",
        "moc": [{"board": "ABIM", "credit_type": "Medical Knowledge", "points": "1.50"}],
        "code": f"BENCH-{n:05d}",
        "verification_url": f"https://cme.example.org/verify/bench{n:012d}/",
    }


def rendering_rate(count: int) -> float:
    from learners.pdf.certificate import render_snapshot

    render_snapshot(snapshot(0))  # fonts parsed once per process, as in a worker
    started = time.perf_counter()
    for n in range(count):
        render_snapshot(snapshot(n))
    return count / (time.perf_counter() - started)


class Sink:
    """A local SMTP server that counts messages and notes when the first and last arrived (aiosmtpd, in a
    thread of this process)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.reset()

    def reset(self):
        with self.lock:
            self.count, self.first, self.last = 0, None, None
            self.recipients: dict[str, int] = {}

    async def handle_DATA(self, server, session, envelope):
        now = time.perf_counter()
        with self.lock:
            self.count += 1
            self.first = self.first or now
            self.last = now
            for rcpt in envelope.rcpt_tos:
                self.recipients[rcpt] = self.recipients.get(rcpt, 0) + 1
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {self.count} of {count} emails arrived")
            time.sleep(0.05)


def reset_pools(app) -> None:
    """Drop the app's broker connections, so the next dispatch connects to the broker now configured."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


def _cpu_seconds(roots: set[int]) -> float:
    """User + system CPU time of the processes in ``roots`` and all their descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid, seconds in times.items():
        ancestor = pid
        while ancestor not in roots and ancestor > 1:
            ancestor = parents.get(ancestor, 1)
        if ancestor in roots:
            total += seconds
    return total


def _postgres_cpu_seconds() -> float:
    roots = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() == "postgres":
                        roots.add(int(entry))
            except OSError:
                continue
    return _cpu_seconds(roots)


class Workers:
    """``count`` real ``celery worker`` processes on the benchmark broker, mailing to the sink."""

    def __init__(self, count: int, *, broker: str, sink: Sink, concurrency: int = 1, pool: str = "prefork"):
        import subprocess

        env = {**os.environ, "CELERY_BROKER_URL": broker, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
        env["LOG_LEVEL"] = "WARNING"
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--concurrency", str(concurrency),
                   "--pool", pool, "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]  # fmt: skip
        root = Path(__file__).resolve().parent.parent
        self.processes = [
            subprocess.Popen([*command, "--hostname", f"bench{n}@%h"], cwd=root, env=env)
            for n in range(count)
        ]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(60)


def make_learners(claims: int, activity, tag: str) -> list:
    from learners.models import Enrollment
    from learners.services import create_profile
    from portal.models import User

    users = User.objects.bulk_create(
        [
            User(email=f"{tag}{n}@bench.example.org", first_name=NAMES[n % len(NAMES)], last_name=f"#{n}")
            for n in range(claims)
        ]
    )
    for user in users:
        create_profile(
            user=user, first_name=user.first_name, last_name=user.last_name, profession="physician"
        )
    return Enrollment.objects.bulk_create([Enrollment(learner=user, activity=activity) for user in users])


def end_to_end(claims: int, workers: int, concurrency: int = 1, pool: str = "prefork") -> dict:
    """Two runs of ``claims`` claims: made while the workers run (first claim to last email), and made
    first, then drained by workers started afterwards (first email to last email)."""
    from decimal import Decimal

    import redis
    from django.db import connection

    from activities.models import Activity, CreditDesignation, Provider
    from learners.models import Certificate
    from learners.services import claim_credit
    from portal.celery import app
    from portal.models import User

    broker = "redis://127.0.0.1:6379/5"
    redis.Redis.from_url(broker).flushdb()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE learners_outboxmessage, learners_certificateversion, learners_certificate, "
            "learners_claimedmoc, learners_claimedcredit, learners_creditclaim, learners_enrollment, "
            "learners_boardid, learners_statelicense, learners_learnerprofile, account_emailaddress, "
            "portal_auditentry CASCADE"
        )
    User.objects.filter(email__endswith="@bench.example.org").delete()
    provider, _ = Provider.objects.get_or_create(name="Bench Provider", defaults={"slug": "bench-provider"})
    activity, _ = Activity.objects.get_or_create(
        activity_link="https://bench.example.org/activity",
        defaults={
            "provider": provider,
            "title": "Bench activity: certificates at scale",
            "slug": "bench-certificates",
            "summary": "For the certificate benchmark.",
            "activity_type": "internet_enduring",
            "format": "online",
            "start": "2026-01-01T00:00:00Z",
            "end": "2028-01-01T00:00:00Z",
            "status": Activity.Status.PUBLISHED,
        },
    )
    CreditDesignation.objects.get_or_create(
        activity=activity, credit_type_id="ama_pra_1", defaults={"max_amount": 1.5}
    )
    live, backlog = make_learners(claims, activity, "live"), make_learners(claims, activity, "backlog")

    def claim_all(enrollments) -> float:
        started = time.perf_counter()
        for enrollment in enrollments:
            claim_credit(enrollment=enrollment, amounts={"ama_pra_1": Decimal("1.50")}, attested=True)
        return time.perf_counter() - started

    sink = Sink()
    sink.controller.start()
    original = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = broker, False
    reset_pools(app)
    result = {}
    try:
        running = Workers(workers, broker=broker, sink=sink, concurrency=concurrency, pool=pool)
        try:
            deadline = time.monotonic() + 60
            while len(app.control.ping(timeout=0.5)) < workers:
                if time.monotonic() > deadline:
                    raise SystemExit("the celery workers did not start")
            started = time.perf_counter()
            result["live_claims"] = claim_all(live)
            sink.wait_for(claims)
            result["live"] = sink.last - started
        finally:
            running.stop()
        live_recipients = dict(sink.recipients)
        sink.reset()
        result["backlog_claims"] = claim_all(backlog)  # queued on Redis, no worker yet
        postgres_before, own_before = _postgres_cpu_seconds(), time.process_time()
        running = Workers(workers, broker=broker, sink=sink, concurrency=concurrency, pool=pool)
        try:
            sink.wait_for(claims)
            result["backlog"] = (sink.last - sink.first) * claims / (claims - 1)
            result["worker_cpu"] = _cpu_seconds({p.pid for p in running.processes}) / claims
            result["postgres_cpu"] = (_postgres_cpu_seconds() - postgres_before) / claims
            result["sink_cpu"] = (time.process_time() - own_before) / claims
        finally:
            running.stop()
    finally:
        app.conf.broker_url, app.conf.task_always_eager = original
        reset_pools(app)
        sink.controller.stop()
    result["certificates"] = Certificate.objects.count()
    recipients = [live_recipients, sink.recipients]
    result["duplicates"] = sum(n - 1 for counts in recipients for n in counts.values() if n > 1)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=300)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="processes each worker forks")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo"], help="the workers' pool")
    args = parser.parse_args(argv)
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
    from bench.common import setup_django

    setup_django()
    rate = rendering_rate(args.renders)
    result = end_to_end(args.claims, args.workers, args.concurrency, args.pool)
    render_alone = args.claims / rate
    ratio = result["backlog"] / render_alone
    print(
        f"Certificates: PDF rendering in one process, and {args.claims:,} claims through Redis and "
        f"{args.workers} workers to an SMTP sink"
    )
    print(
        table(
            ["measure", "figure", "target"],
            [
                ["PDFs rendered per second (one process)", f"{rate:.0f}/s", f"≥ {TARGET_RENDERS}/s"],
                [
                    "emailed/s, claims made while workers run",
                    f"{args.claims / result['live']:.0f}/s",
                    f"(claims took {result['live_claims']:.1f} s)",
                ],
                [
                    "emailed/s, workers draining the queued claims",
                    f"{args.claims / result['backlog']:.0f}/s",
                    "",
                ],
                ["draining time / rendering alone (one process)", f"{ratio:.2f}x", f"≤ {TARGET_RATIO}x"],
                ["  CPU per certificate: rendering alone", f"{1000 / rate:.1f} ms", ""],
                [
                    "  CPU per certificate: the workers (all of it)",
                    f"{1000 * result['worker_cpu']:.1f} ms",
                    "",
                ],
                ["  CPU per certificate: PostgreSQL", f"{1000 * result['postgres_cpu']:.2f} ms", ""],
                [
                    "  CPU per certificate: SMTP sink (this process)",
                    f"{1000 * result['sink_cpu']:.1f} ms",
                    "",
                ],
                ["certificates issued", f"{result['certificates']:,}", f"{2 * args.claims:,}"],
                ["duplicate emails", f"{result['duplicates']}", "0"],
            ],
        )
    )
    ok = (
        rate >= TARGET_RENDERS
        and ratio <= TARGET_RATIO
        and result["certificates"] == 2 * args.claims
        and result["duplicates"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
