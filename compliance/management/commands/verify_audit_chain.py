from django.core.management.base import BaseCommand, CommandError

from compliance import chain
from core.formatting import counted


def _entries(count: int) -> str:
    return counted(count, "entry", "entries")


class Command(BaseCommand):
    help = ("Walk the audit trail's hash chain and name the first entry that was altered, "
            "removed or inserted out of band.")

    def handle(self, *args, **opts):
        report = chain.verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken after {_entries(report.checked - 1)} intact: "
                f"{report.problem}")
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {_entries(report.checked)}, head seq {report.head_seq}, "
            f"head hash {report.head_hash}."))
