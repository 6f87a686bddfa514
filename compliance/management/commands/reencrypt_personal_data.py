from django.core.management.base import BaseCommand

from compliance import services
from core.formatting import counted


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted personal value under the first (newest) key of "
            "FIELD_ENCRYPTION_KEYS. Run after putting a new key first; then the old key "
            "can be removed. A second run changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **opts):
        counts = services.personal_data_reencrypt(batch_size=opts["batch_size"])
        self.stdout.write(f"Checked {counted(counts['rows_checked'], 'row')}; re-encrypted "
                          f"{counted(counts['values_reencrypted'], 'value')} under the newest "
                          f"key.")
