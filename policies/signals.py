"""What the policies services announce, sent inside the writing transaction, so an
observer's own writes (the events outbox) commit or roll back with the change.

Keyword arguments: ``policy`` always; ``data`` (the resource as the API shows it)
where the resource is not the policy.
"""

from django.dispatch import Signal

policy_bound = Signal()
policy_endorsed = Signal()
policy_cancelled = Signal()
policy_renewed = Signal()
