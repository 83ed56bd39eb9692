import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from activities.services import import_listings, listing_sources

PROGRESS_FROM = 20  # files; fewer finish before a bar would be worth drawing


class Command(BaseCommand):
    help = (
        "Import activity listings (.txt files, or directories searched for them). Prints each failure as "
        "'path: Field: reason' and a summary; exits 1 when any file failed. Good files are imported anyway. "
        "An operator's command: providers and specialties the listings name are created when new."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="listing files or directories")
        parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")

    def handle(self, *paths, **options):
        sources = listing_sources(options["paths"])
        if not sources:
            raise CommandError("No listing files found (directories are searched for *.txt).")
        show_bar = not options["no_progress"] and len(sources) >= PROGRESS_FROM and sys.stderr.isatty()
        with tqdm(total=len(sources), unit="file", disable=not show_bar, file=sys.stderr) as bar:
            # Unscoped (provider_ids=None), as accreditation staff import: the seed fills an empty catalog.
            report = import_listings(sources=sources, progress=bar.update)
        for line in report.lines():
            self.stdout.write(line)
        summary = f"Imported {report.summary()}."
        if report.failed:
            self.stdout.write(self.style.ERROR(summary))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(summary))
