"""The profile page: every field validated with a message beside it, consent dated, changes audited."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from learners.models import BoardId, LearnerProfile, StateLicense
from learners.services.profiles import ProfileError, update_profile
from portal.models import AuditEntry
from tests.helpers import page_text
from tests.learners.conftest import field_error, inputs

pytestmark = pytest.mark.django_db

URL = reverse("learners:profile")
VALID_NPI = "1234567893"


def stored_profile(user, *, profession: str) -> LearnerProfile:
    """A profile as saved earlier, written straight to the database with no audit entry: the tests here count
    the entries the profile page writes (``tests.helpers.make_learner`` would leave its own)."""
    degree = "MD" if profession == "physician" else ""
    return LearnerProfile.objects.create(user=user, profession=profession, degree=degree)


def form_data(*, licenses=(), boards=(), consent=False, **fields) -> dict:
    """A complete profile form submission: a physician (MD) with nothing optional, unless overridden."""
    data = {
        "first_name": "Nguyễn Thị",
        "last_name": "Minh Khai",
        "profession": "physician",
        "degree": "MD",
        "npi": "",
        "nabp_eprofile_id": "",
        "birth_month": "",
        "birth_day": "",
        "licenses-TOTAL_FORMS": str(len(licenses) + 1),
        "licenses-INITIAL_FORMS": "0",
        "boards-TOTAL_FORMS": str(len(boards) + 1),
        "boards-INITIAL_FORMS": "0",
    }
    if consent:
        data["reporting_consent"] = "on"
    for n, (state, number) in enumerate(licenses):
        data[f"licenses-{n}-state"], data[f"licenses-{n}-number"] = state, number
    for n, (board, board_id) in enumerate(boards):
        data[f"boards-{n}-board"], data[f"boards-{n}-board_id"] = board, board_id
    return data | {name: str(value) for name, value in fields.items()}


@pytest.fixture
def learner(client, learner_a):
    stored_profile(learner_a, profession="physician")
    client.force_login(learner_a)
    return learner_a


def profile_of(user) -> LearnerProfile:
    return LearnerProfile.objects.get(user=user)


def test_saving_stores_every_field(client, learner):
    response = client.post(
        URL,
        form_data(
            npi=VALID_NPI,
            degree="DO",
            birth_month=2,
            birth_day=29,
            licenses=[("CA", "A-12345"), ("NY", "301122")],
            boards=[("ABIM", "ABIM-448812")],
        ),
    )

    assert response.status_code == 302
    learner.refresh_from_db()
    profile = profile_of(learner)
    assert (learner.first_name, learner.last_name) == ("Nguyễn Thị", "Minh Khai")
    assert (profile.profession, profile.degree, profile.npi) == ("physician", "DO", VALID_NPI)
    assert profile.birth_mmdd == "0229"
    assert list(profile.licenses.values_list("state", "number")) == [("CA", "A-12345"), ("NY", "301122")]
    assert list(profile.board_ids.values_list("board", "board_id")) == [("ABIM", "ABIM-448812")]


def test_a_pharmacist_saves_the_eprofile_id(client, learner):
    response = client.post(
        URL, form_data(profession="pharmacist", degree="PharmD", nabp_eprofile_id="1234567")
    )

    assert response.status_code == 302
    assert profile_of(learner).nabp_eprofile_id == "1234567"


def test_the_page_shows_the_saved_profile(client, learner):
    client.post(URL, form_data(npi=VALID_NPI, licenses=[("TX", "Q-77")], boards=[("ABS", "S-9")]))

    response = client.get(URL)

    fields = response.context["form"].initial
    assert fields["npi"] == VALID_NPI
    assert [f.initial for f in response.context["licenses"].initial_forms] == [
        {"state": "TX", "number": "Q-77"}
    ]
    assert 'value="S-9"' in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("npi", "12345", "An NPI is 10 digits."),
        ("npi", "12345abcde", "An NPI is 10 digits."),
        ("npi", "1234567890", "This NPI's check digit is wrong; please check the number."),
        ("nabp_eprofile_id", "12A456", "An NABP e-Profile ID is 6 or 7 digits."),
        ("nabp_eprofile_id", "12345", "An NABP e-Profile ID is 6 or 7 digits."),
    ],
)
def test_a_bad_identifier_is_refused_beside_its_field(client, learner, field, value, message):
    response = client.post(URL, form_data(**{field: value}))

    assert response.status_code == 400
    assert field_error(response, f"id_{field}") == message
    assert getattr(profile_of(learner), field) == ""


@pytest.mark.parametrize(
    ("month", "day", "message"),
    [
        (2, 30, "February has no day 30."),
        (4, 31, "April has no day 31."),
        (6, "", "Give both the month and the day, or neither."),
        ("", 14, "Give both the month and the day, or neither."),
    ],
)
def test_a_birth_day_that_is_not_a_real_date_is_refused(client, learner, month, day, message):
    response = client.post(URL, form_data(birth_month=month, birth_day=day))

    assert response.status_code == 400
    assert field_error(response, "id_birth_day") == message
    profile = profile_of(learner)
    assert (profile.birth_month, profile.birth_day) == (None, None)


def test_29_february_is_a_birthday(client, learner):
    assert client.post(URL, form_data(birth_month=2, birth_day=29)).status_code == 302
    assert profile_of(learner).birth_mmdd == "0229"


def test_a_physician_must_hold_an_md_or_do(client, learner):
    response = client.post(URL, form_data(degree="RN"))

    assert response.status_code == 400
    assert field_error(response, "id_degree") == (
        "Physicians: choose your physician degree (MD, DO, MBBS, MBChB or an equivalent one listed)."
    )
    assert profile_of(learner).degree == "MD"


def test_an_md_must_be_a_physician(client, learner):
    response = client.post(URL, form_data(profession="nurse", degree="MD"))

    assert response.status_code == 400
    assert "choose Physician as the profession" in field_error(response, "id_profession")
    assert profile_of(learner).profession == "physician"


@pytest.mark.parametrize(
    ("fields", "field"), [({"degree": "RN"}, "degree"), ({"profession": "nurse"}, "profession")]
)
def test_the_profile_service_holds_the_degree_rule_for_every_caller(learner, fields, field):
    profile = profile_of(learner)
    with pytest.raises(ProfileError) as refused:
        update_profile(
            profile=profile, first_name="Changed", last_name="Name", fields=fields, consent=True, licenses=[],
            board_ids=[],
        )  # fmt: skip
    assert refused.value.field == field
    learner.refresh_from_db()
    profile = profile_of(learner)
    assert learner.first_name != "Changed"
    assert (profile.profession, profile.degree, profile.reporting_consent_at) == ("physician", "MD", None)


def test_the_same_state_twice_is_refused(client, learner):
    response = client.post(URL, form_data(licenses=[("CA", "A-1"), ("CA", "A-2")]))

    assert response.status_code == 400
    assert "Each state can have only one license listed." in page_text(response)
    assert not StateLicense.objects.exists()


def test_the_same_board_twice_is_refused(client, learner):
    response = client.post(URL, form_data(boards=[("ABIM", "1"), ("ABIM", "2")]))

    assert response.status_code == 400
    assert "Each board can be listed only once." in page_text(response)
    assert not BoardId.objects.exists()


def test_a_license_state_without_its_number_is_refused(client, learner):
    response = client.post(URL, form_data(licenses=[("CA", "")]))

    assert response.status_code == 400
    assert "Give both the state and the license number." in page_text(response)
    assert not StateLicense.objects.exists()


def test_a_license_number_without_its_state_is_refused(client, learner):
    response = client.post(URL, form_data(licenses=[("", "A-1")]))

    assert response.status_code == 400
    assert "Give both the state and the license number." in page_text(response)


def test_a_board_id_without_its_board_is_refused(client, learner):
    response = client.post(URL, form_data(boards=[("", "ABIM-1")]))

    assert response.status_code == 400
    assert "Give both the board and your ID with it." in page_text(response)


def test_a_license_number_with_odd_characters_is_refused_beside_it(client, learner):
    response = client.post(URL, form_data(licenses=[("CA", "<script>")]))

    assert response.status_code == 400
    assert "Use letters, digits" in field_error(response, "id_licenses-0-number")


def test_a_refused_save_changes_nothing(client, learner):
    client.post(URL, form_data(npi=VALID_NPI, licenses=[("CA", "A-1")], boards=[("ABIM", "B-1")]))

    response = client.post(
        URL,
        form_data(
            first_name="Changed",
            npi="1234567890",
            licenses=[("NY", "N-1")],
            boards=[("ABS", "S-1")],
            consent=True,
        ),
    )

    assert response.status_code == 400
    learner.refresh_from_db()
    profile = profile_of(learner)
    assert learner.first_name == "Nguyễn Thị"
    assert profile.npi == VALID_NPI
    assert profile.reporting_consent_at is None
    assert list(profile.licenses.values_list("state", flat=True)) == ["CA"]
    assert list(profile.board_ids.values_list("board", flat=True)) == ["ABIM"]


def test_consent_is_dated_when_given_kept_on_resave_and_cleared_when_withdrawn(client, learner):
    given = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(given, tick=False):
        client.post(URL, form_data(consent=True))
    assert profile_of(learner).reporting_consent_at == given

    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC), tick=False):
        client.post(URL, form_data(consent=True, npi=VALID_NPI))
    assert profile_of(learner).reporting_consent_at == given

    client.post(URL, form_data(consent=False))
    assert profile_of(learner).reporting_consent_at is None


def test_the_page_says_when_consent_was_given(client, learner):
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), tick=False):
        client.post(URL, form_data(consent=True))

    response = client.get(URL)

    assert "You gave your consent on Mar 2, 2026" in page_text(response)
    assert "checked" in inputs(response)["reporting_consent"]


def test_licenses_and_board_ids_are_replaced_on_save(client, learner):
    client.post(URL, form_data(licenses=[("CA", "A-1"), ("NY", "N-1")], boards=[("ABIM", "B-1")]))

    client.post(URL, form_data(licenses=[("TX", "T-1")], boards=[("ABS", "S-1"), ("ABA", "A-9")]))

    profile = profile_of(learner)
    assert list(profile.licenses.values_list("state", "number")) == [("TX", "T-1")]
    assert list(profile.board_ids.values_list("board", "board_id")) == [("ABA", "A-9"), ("ABS", "S-1")]


def test_clearing_every_license_removes_them(client, learner):
    client.post(URL, form_data(licenses=[("CA", "A-1")]))

    client.post(URL, form_data())

    assert not profile_of(learner).licenses.exists()


def test_a_change_is_audited_without_the_npi_itself(client, learner):
    client.post(URL, form_data(npi=VALID_NPI, consent=True, licenses=[("CA", "A-1")]))

    profile = profile_of(learner)
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(LearnerProfile), object_id=str(profile.pk)
    )
    changed = entries.get(action="profile.changed")
    assert changed.actor == learner
    assert {"npi", "consent", "licenses"} <= set(changed.data["changed"])
    for entry in AuditEntry.objects.all():
        assert VALID_NPI not in json.dumps(entry.data) + entry.object_repr


def test_saving_without_changes_writes_no_audit_entry(client, learner):
    client.post(URL, form_data(npi=VALID_NPI))
    count = AuditEntry.objects.count()

    client.post(URL, form_data(npi=VALID_NPI))

    assert AuditEntry.objects.count() == count


def test_a_learner_without_a_profile_creates_one(client, learner_b):
    client.force_login(learner_b)

    response = client.post(URL, form_data(profession="nurse", degree="RN"))

    assert response.status_code == 302
    assert profile_of(learner_b).profession == "nurse"
    assert AuditEntry.objects.filter(action="profile.created", actor=learner_b).exists()


def test_the_profile_page_requires_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={URL}"


def test_another_learner_sees_and_changes_only_their_own_profile(client, learner, learner_b):
    client.post(URL, form_data(npi=VALID_NPI, licenses=[("CA", "A-1")]))
    stored_profile(learner_b, profession="nurse")
    client.force_login(learner_b)

    page = client.get(URL).content.decode()
    client.post(URL, form_data(profession="nurse", degree="RN", licenses=[("NY", "N-1")]))

    assert VALID_NPI not in page and "A-1" not in page
    mine = profile_of(learner)
    assert mine.npi == VALID_NPI
    assert list(mine.licenses.values_list("state", flat=True)) == ["CA"]
    assert list(profile_of(learner_b).licenses.values_list("state", flat=True)) == ["NY"]
