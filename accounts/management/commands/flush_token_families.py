from django.core.management.base import BaseCommand

from accounts.services import token_families_purge


class Command(BaseCommand):
    help = ("Delete API login token families whose newest refresh token has expired "
            "(run it next to simplejwt's flushexpiredtokens).")

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {token_families_purge()} expired token families.")
