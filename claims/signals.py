"""What the claims services announce, sent inside the writing transaction, so an
observer's own writes (the events outbox) commit or roll back with the change.

Keyword arguments: ``claim`` always; ``previous_status`` for a status change;
``data`` (the resource as the API shows it) where the resource is not the claim.
"""

from django.dispatch import Signal

claim_created = Signal()
claim_status_changed = Signal()
claim_payment_made = Signal()
