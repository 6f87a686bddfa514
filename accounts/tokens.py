"""Revoked token families, as the access-token check sees them.

A family's refresh tokens are checked against the database (accounts.models.
TokenFamily) when they are exchanged. Its access tokens carry the family's id (the
`fam` claim) and are checked on every API call and WebSocket connection in the same
query that loads their user (accounts.authentication): a revoked login's access
tokens stop working as soon as the revocation commits, in every process, with or
without the cache.
"""

FAMILY_CLAIM = "fam"


def family_revoked(family_id) -> bool:
    from accounts.models import TokenFamily

    return TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=False).exists()
