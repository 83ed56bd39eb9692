"""Reporting to the registries, by area: ``ledger`` (what each claim owes the registries and how far it has
got), ``exports`` (the files that carry it) and ``digest`` (the staff's daily deadline email). Import the
module you need: ``from learners.services.reporting import ledger``."""
