from django.core.management.base import BaseCommand, CommandError

from compliance import chain


class Command(BaseCommand):
    help = ("Walk the audit trail's hash chain and name the first entry that was altered, "
            "removed or inserted out of band.")

    def handle(self, *args, **opts):
        report = chain.verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken after {report.checked - 1} intact entr(y/ies): "
                f"{report.problem}")
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {report.checked} entr(y/ies), head seq {report.head_seq}, "
            f"head hash {report.head_hash}."))
