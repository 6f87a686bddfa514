from django.dispatch import Signal

# A refresh token that had already been rotated was presented again: the login's
# whole token family has been revoked. Sent with `user`, `family_id`, `request`.
refresh_token_reused = Signal()
