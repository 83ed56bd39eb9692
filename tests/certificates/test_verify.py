"""The public verification page: valid, revoked or superseded, by link or by the printed code; nothing
private beyond the learner's name."""

import pytest
from django.urls import reverse

from learners import services
from learners.services import certificates
from tests.factories import UserFactory
from tests.helpers import ABIM_ID, NPI, complete, issue, make_learner, page_text

pytestmark = pytest.mark.django_db


def verify_url(certificate, number=None) -> str:
    if number is None:
        return reverse("learners:verify", kwargs={"verification_id": certificate.verification_id})
    return reverse(
        "learners:verify_version", kwargs={"verification_id": certificate.verification_id, "number": number}
    )


def rename(user, first, last):
    profile = user.profile
    services.update_profile(
        profile=profile, first_name=first, last_name=last, fields={}, consent=profile.has_reporting_consent,
        licenses=[], board_ids=list(profile.board_ids.values_list("board", "board_id")),
    )  # fmt: skip


def test_urls_are_the_public_ones(certificate):
    assert verify_url(certificate) == f"/verify/{certificate.verification_id}/"
    assert verify_url(certificate, 1) == f"/verify/{certificate.verification_id}/v1/"
    assert certificate.get_absolute_url() == verify_url(certificate)


def test_valid_certificate_shows_its_statement_without_login(client, certificate, provider_a):
    response = client.get(verify_url(certificate))
    assert response.status_code == 200
    text = page_text(response)
    assert "Valid version 1, issued" in text
    assert f"Certificate {certificate.code}" in text
    for expected in (
        "Awarded to Ada Lovelace, MD",
        "Certificate of Credit",
        "Activity Intrathecal drug delivery",
        "Internet Enduring Material · Online Learning",
        "Issued by Provider A",
        "1.50 AMA PRA Category 1 Credit™",
        "1.50 IPCE Credit",
        "1.50 ABIM MOC (Medical Knowledge)",
        "Provider A is accredited by the Accreditation Council for Continuing Medical Education (ACCME)",
    ):
        assert expected in text, expected
    assert "Revoked" not in text and "Superseded" not in text
    assert '<meta name="robots" content="noindex">' in response.text


def test_completion_certificate_page_lists_the_credit_claimed(
    client, seed_activity, django_capture_on_commit_callbacks
):
    nurse = make_learner(UserFactory(), first_name="Florence", last_name="Nightingale", profession="nurse")
    certificate = issue(complete(nurse, seed_activity), django_capture_on_commit_callbacks)
    text = page_text(client.get(verify_url(certificate)))
    assert "Certificate of Completion" in text
    assert "1.50 ANCC Nursing Contact Hours" in text
    assert "1.50 IPCE Credit" in text
    assert "1.50 AMA PRA Category 1 Credit™" not in text


def test_the_page_shows_nothing_private_beyond_the_name(client, certificate, physician):
    physician.profile.licenses.create(state="MA", number="MD-778899")
    for url in (verify_url(certificate), verify_url(certificate, 1)):
        body = client.get(url).content.decode()
        for private in (
            physician.email,
            "learner-a",
            NPI,
            ABIM_ID,
            "MD-778899",
            "0714",
            "07/14",
            "July 14",
        ):
            assert private not in body, private
        assert "Ada Lovelace" in body


def test_lookup_by_the_printed_code(client, certificate):
    response = client.get(reverse("learners:verify_lookup"), {"code": certificate.code})
    assert response.status_code == 302
    assert response["Location"] == verify_url(certificate)


def test_lookup_forgives_case_and_spaces(client, certificate):
    response = client.get("/verify/", {"code": f"  {certificate.code.lower()} "})
    assert response["Location"] == verify_url(certificate)


def test_lookup_form_without_a_code(client):
    response = client.get("/verify/")
    assert response.status_code == 200
    assert 'name="code"' in response.text


def test_unknown_code_is_a_404_with_a_message(client, certificate):
    response = client.get("/verify/", {"code": "ZZZZZ-ZZZZZ"})
    assert response.status_code == 404
    assert "No certificate has the code ZZZZZ-ZZZZZ." in page_text(response)


def test_unknown_code_is_escaped(client):
    response = client.get("/verify/", {"code": "<script>x</script>"})
    assert response.status_code == 404
    assert "No certificate has the code <SCRIPT>X</SCRIPT>." in page_text(response)  # shown, as text
    assert "<SCRIPT>" not in response.text and "<script>x" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/verify/not-a-real-id/",
        "/verify/not-a-real-id/v1/",
        "/verify/{vid}x/",
        "/verify/{vid}/v2/",
        "/verify/{vid}/v0/",
    ],
)
def test_unknown_ids_and_versions_are_plain_404s(client, certificate, path):
    response = client.get(path.format(vid=certificate.verification_id))
    assert response.status_code == 404
    assert certificate.code not in response.text
    assert "Ada Lovelace" not in response.text


def test_the_code_is_not_a_verification_id(client, certificate):
    assert client.get(f"/verify/{certificate.code}/").status_code == 404


def test_revoked_certificate_says_so_with_the_reason(client, certificate, staff_a):
    certificates.revoke_certificate(
        certificate=certificate, reason="Attendance could not be verified", by=staff_a
    )
    text = page_text(client.get(verify_url(certificate)))
    assert "Revoked on" in text
    assert "Attendance could not be verified" in text
    assert "Valid" not in text
    assert staff_a.email not in text  # who revoked it is for the admin, not the public


def test_reissue_supersedes_the_old_version(client, certificate, physician, staff_a):
    rename(physician, "Ada", "King-Lovelace")
    certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Surname corrected")

    current = page_text(client.get(verify_url(certificate)))
    assert "Valid version 2, issued" in current
    assert "Awarded to Ada King-Lovelace, MD" in current

    old = client.get(verify_url(certificate, 1))
    assert old.status_code == 200
    text = page_text(old)
    assert "Superseded by version 2, issued" in text
    assert "Awarded to Ada Lovelace, MD" in text
    assert "Valid" not in text
    assert f'href="{verify_url(certificate, 2)}"' in old.text

    assert "Valid version 2" in page_text(client.get(verify_url(certificate, 2)))
    assert client.get(verify_url(certificate, 3)).status_code == 404


def test_the_code_finds_the_current_version_after_reissue(client, certificate, staff_a):
    certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Reprint")
    response = client.get("/verify/", {"code": certificate.code}, follow=True)
    assert "Valid version 2" in page_text(response)


def test_revoked_after_reissue_every_version_says_revoked(client, certificate, staff_a):
    certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Reprint")
    certificates.revoke_certificate(certificate=certificate, reason="Duplicate claim", by=staff_a)
    for number in (None, 1, 2):
        text = page_text(client.get(verify_url(certificate, number)))
        assert "Revoked on" in text and "Duplicate claim" in text
        assert "Valid" not in text


def test_verification_page_renders_any_script(client, certificate, staff_a, physician):
    rename(physician, "小明", "王")
    certificates.reissue_certificate(certificate=certificate, by=staff_a, reason="Name in Chinese")
    assert "Awarded to 小明 王, MD" in page_text(client.get(verify_url(certificate)))
