"""ACPE's Universal Activity Number (UAN): its parts, read from the text. Plain data, no Django.

A UAN reads ``PPPP-JJJJ-YY-SSS-XNN-A``:

- ``PPPP``: the ACPE provider number, 4 digits, or ``JA`` and 7 digits for a jointly accredited provider
  (the audit's example ``JA4008162-9999-25-101-L08-P``);
- ``JJJJ``: ``0000`` when the provider alone offers the activity, ``9999`` (or a co-sponsor's code) when it
  is offered jointly with others;
- ``YY``: the year the activity was released;
- ``SSS``: the provider's own sequence number;
- ``X``: how it is delivered, ``L`` live, ``H`` home study (enduring), ``B`` both; ``NN``: ACPE's topic
  designator (two digits);
- ``A``: who may take it for credit, ``P`` pharmacists, ``T`` pharmacy technicians. An activity open to
  both has two UANs that differ only in that last letter.

Source: Ohio Pharmacists Association, "Deciphering ACPE Numbers"
(https://www.ohiopharmacists.org/aws/OPA/pt/sp/education_acpe), which explains each part on the Ohio
Pharmacists Foundation's own UANs ("0129-0000-19-XXX-H0x(or L0x)-P(or T)"), including that "some CPE
activities are open to both pharmacists and technicians and the UANs will be the same except for the last
letter". ACPE's own UAN guide was not readable in the published material found; the topic list (01, 02,
...) is therefore checked only as two digits, not against ACPE's table.
"""

import re
from dataclasses import dataclass

CREDIT_TYPE = "pharmacy"  # the credit type code ACPE credit has here
PHARMACIST, TECHNICIAN = "P", "T"
UAN_PATTERN = re.compile(r"^(?P<provider>JA[0-9]{7}|[0-9]{4})-(?P<joint>[0-9]{4})-(?P<year>[0-9]{2})-"
                         r"(?P<sequence>[0-9]{3})-(?P<delivery>[LHB])(?P<topic>[0-9]{2})-(?P<audience>[PT])$")  # fmt: skip
FORMAT_HELP = "e.g. 0129-0000-26-001-L01-P, or JA0000001-9999-26-001-H05-T"


@dataclass(frozen=True)
class Uan:
    text: str
    provider: str
    joint: str
    year: str
    sequence: str
    delivery: str
    topic: str
    audience: str


def parse_uan(text: str) -> Uan | None:
    """The UAN's parts, or None when ``text`` is not a UAN (surrounding spaces are ignored)."""
    text = text.strip().upper()
    match = UAN_PATTERN.match(text)
    if match is None:
        return None
    return Uan(text=text, **match.groupdict())


def uan_error(text: str, *, provider_number: str = "") -> str | None:
    """Why ``text`` is not a valid UAN for a provider with ACPE number ``provider_number`` (None if it is)."""
    uan = parse_uan(text)
    if uan is None:
        return f"{text.strip()!r} is not a Universal Activity Number ({FORMAT_HELP})."
    if provider_number and uan.provider != provider_number.strip().upper():
        return (
            f"The UAN's provider number {uan.provider} is not the provider's ACPE number "
            f"{provider_number.strip().upper()}."
        )
    return None
