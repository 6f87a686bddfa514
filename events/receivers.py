"""The events app observes the domain: each app's signals, sent inside the writing
transaction, become outbox rows in that same transaction.

Adding an event type a service already announces is one line in RECEIVERS.
"""

from claims import signals as claim_signals
from compliance import signals as compliance_signals
from events import services
from events.models import EventType
from policies import signals as policy_signals

RECEIVERS = [
    (claim_signals.claim_created, EventType.CLAIM_CREATED),
    (claim_signals.claim_status_changed, EventType.CLAIM_STATUS_CHANGED),
    (claim_signals.claim_payment_made, EventType.CLAIM_PAYMENT_MADE),
    (policy_signals.policy_bound, EventType.POLICY_BOUND),
    (policy_signals.policy_endorsed, EventType.POLICY_ENDORSED),
    (policy_signals.policy_cancelled, EventType.POLICY_CANCELLED),
    (policy_signals.policy_renewed, EventType.POLICY_RENEWED),
]


def _recorder(event_type: str):
    def receive(sender, *, claim=None, policy=None, data=None, **kwargs):
        services.event_record(type=event_type, claim=claim, policy=policy, data=data)
    receive.__name__ = f"record_{event_type.replace('.', '_')}"
    return receive


_connected = []  # strong references: a signal holds its receivers weakly
for signal, event_type in RECEIVERS:
    receiver = _recorder(event_type)
    _connected.append(receiver)
    signal.connect(receiver, dispatch_uid=f"events.{event_type}")


def _customer_erased(sender, *, customer, **kwargs):
    services.customer_scrub(customer_id=customer.pk)


compliance_signals.customer_erased.connect(_customer_erased, dispatch_uid="events.erasure")
