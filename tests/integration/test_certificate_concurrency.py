"""One certificate per enrollment however many issue it at once: threads, each with its own PostgreSQL
connection, racing ``issue_certificate`` for the same enrollment (DESIGN.md, Certificates)."""

import threading

import pytest
from django.db import connection

from learners.models import Certificate, CertificateVersion, OutboxMessage
from learners.services import certificates, dispatch
from portal.models import AuditEntry
from tests.factories import ActivityFactory
from tests.integration.conftest import claim, enrolled_learners

CALLERS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_e_twenty_concurrent_issues_for_one_enrollment_make_one_certificate(monkeypatch, mailoutbox):
    activity = ActivityFactory(credits={"ama_pra_1": "1.50"})
    (enrollment,) = enrolled_learners(activity, 1)
    with monkeypatch.context() as patch:
        patch.setattr(dispatch, "issue_certificate", lambda enrollment_id: None)  # issuing is raced below
        claim(enrollment)
    assert not Certificate.objects.exists()

    start = threading.Barrier(CALLERS)
    issued: list[int] = []
    errors: list[BaseException] = []

    def issue():
        try:
            start.wait(timeout=30)
            issued.append(certificates.issue_certificate(enrollment=enrollment).pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection; leave none open on the test database

    threads = [threading.Thread(target=issue) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(issued) == CALLERS
    certificate = Certificate.objects.get()
    assert set(issued) == {certificate.pk}
    assert certificate.enrollment_id == enrollment.pk
    assert CertificateVersion.objects.filter(certificate=certificate).count() == 1
    assert AuditEntry.objects.filter(action="certificate.issued").count() == 1
    # Tasks run in-process here (tests/settings.py): the one email was sent, to the learner, once.
    message = OutboxMessage.objects.get()
    assert message.state == OutboxMessage.State.SENT
    assert [m.to for m in mailoutbox] == [[enrollment.learner.email]]
