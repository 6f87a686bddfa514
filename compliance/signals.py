"""What the compliance services announce, inside the writing transaction.

``customer_erased(customer=…)``: the customer's personal data is being erased; an
observer holding copies of it scrubs them in the same transaction.
"""

from django.dispatch import Signal

customer_erased = Signal()
