"""Reference data: the credit types of the listing format, and the Accreditation staff group."""

from decimal import Decimal

from django.db import migrations

CREDIT_TYPES = [{'code': 'ama_pra_1',
  'name': 'AMA PRA Category 1 Credit™',
  'listing_name': 'AMA PRA Category 1 Credit™',
  'unit': 'credits',
  'increment': '0.25',
  'professions': ['physician'],
  'designation_statement': '{provider} designates this {format} for a maximum of {amount} AMA PRA Category 1 '
                           'Credit(s)™. Physicians should claim only the credit commensurate with the extent '
                           'of their participation in the activity.',
  'position': 10},
 {'code': 'ipce',
  'name': 'IPCE Credit',
  'listing_name': 'IPCE Credits',
  'unit': 'credits',
  'increment': '0.01',
  'professions': ['physician',
                  'nurse',
                  'pharmacist',
                  'physician_assistant',
                  'psychologist',
                  'social_worker',
                  'dietitian',
                  'physical_therapist',
                  'optometrist',
                  'dentist',
                  'other'],
  'designation_statement': 'This activity was planned by and for the healthcare team, and learners will '
                           'receive a maximum of {amount} Interprofessional Continuing Education (IPCE) '
                           'credit(s) for learning and change.',
  'position': 20},
 {'code': 'nursing',
  'name': 'ANCC Nursing Contact Hours',
  'listing_name': 'Nursing',
  'unit': 'contact hours',
  'increment': '0.01',
  'professions': ['nurse'],
  'designation_statement': '{provider} designates this activity for a maximum of {amount} ANCC nursing '
                           'contact hour(s). Nurses should claim only the credit commensurate with the '
                           'extent of their participation in the activity.',
  'position': 30},
 {'code': 'pharmacy',
  'name': 'ACPE Pharmacy Contact Hours',
  'listing_name': 'Pharmacy',
  'unit': 'contact hours',
  'increment': '0.01',
  'professions': ['pharmacist'],
  'designation_statement': '{provider} designates this activity for a maximum of {amount} ACPE contact '
                           'hour(s) of continuing pharmacy education.',
  'position': 40},
 {'code': 'aapa',
  'name': 'AAPA Category 1 CME Credit',
  'listing_name': 'AAPA Category 1 CME Credits',
  'unit': 'credits',
  'increment': '0.25',
  'professions': ['physician_assistant'],
  'designation_statement': '{provider} has been authorized by the American Academy of PAs (AAPA) to award '
                           'AAPA Category 1 CME credit for activities planned in accordance with AAPA CME '
                           'Criteria. This activity is designated for a maximum of {amount} AAPA Category 1 '
                           'CME credit(s). PAs should only claim credit commensurate with the extent of '
                           'their participation.',
  'position': 50},
 {'code': 'social_work',
  'name': 'ASWB ACE Social Work Credit',
  'listing_name': 'Social Work',
  'unit': 'continuing education credits',
  'increment': '0.01',
  'professions': ['social_worker'],
  'designation_statement': '{provider} is approved to offer social work continuing education through the '
                           'Association of Social Work Boards (ASWB) Approved Continuing Education (ACE) '
                           'program. Social workers completing this activity receive a maximum of {amount} '
                           'continuing education credit(s).',
  'position': 60},
 {'code': 'psychology',
  'name': 'APA Psychology CE Credit',
  'listing_name': 'Psychology',
  'unit': 'CE credits',
  'increment': '0.01',
  'professions': ['psychologist'],
  'designation_statement': '{provider} is approved by the American Psychological Association to sponsor '
                           'continuing education for psychologists and maintains responsibility for this '
                           'program and its content. This activity offers a maximum of {amount} CE '
                           'credit(s).',
  'position': 70},
 {'code': 'dietetics',
  'name': 'CDR Dietetics CPEU',
  'listing_name': 'Dietetics',
  'unit': 'CPEUs',
  'increment': '0.01',
  'professions': ['dietitian'],
  'designation_statement': 'Registered dietitians and dietetic technicians completing this activity will '
                           'receive a maximum of {amount} continuing professional education unit(s) (CPEUs) '
                           'from the Commission on Dietetic Registration (CDR).',
  'position': 80},
 {'code': 'physical_therapy',
  'name': 'Physical Therapy Contact Hours',
  'listing_name': 'Physical Therapy',
  'unit': 'contact hours',
  'increment': '0.01',
  'professions': ['physical_therapist'],
  'designation_statement': 'This activity is approved for a maximum of {amount} contact hour(s) of '
                           'continuing education for physical therapists.',
  'position': 90},
 {'code': 'optometry',
  'name': 'COPE Optometry Credit',
  'listing_name': 'Optometry',
  'unit': 'hours',
  'increment': '0.01',
  'professions': ['optometrist'],
  'designation_statement': 'This activity is COPE-approved for a maximum of {amount} hour(s) of continuing '
                           'education for optometrists.',
  'position': 100},
 {'code': 'dental',
  'name': 'ADA CERP Dental CE Credit',
  'listing_name': 'Dental',
  'unit': 'continuing education credits',
  'increment': '0.01',
  'professions': ['dentist'],
  'designation_statement': '{provider} designates this activity for a maximum of {amount} continuing '
                           'education credit(s) (ADA CERP).',
  'position': 110}]

ACCREDITATION_STAFF_GROUP = "Accreditation staff"


def install(apps, schema_editor):
    credit_type = apps.get_model("activities", "CreditType")
    for row in CREDIT_TYPES:
        values = dict(row, increment=Decimal(row["increment"]))
        credit_type.objects.update_or_create(code=values.pop("code"), defaults=values)
    apps.get_model("auth", "Group").objects.get_or_create(name=ACCREDITATION_STAFF_GROUP)


def uninstall(apps, schema_editor):
    apps.get_model("activities", "CreditType").objects.filter(code__in=[r["code"] for r in CREDIT_TYPES]).delete()
    apps.get_model("auth", "Group").objects.filter(name=ACCREDITATION_STAFF_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
