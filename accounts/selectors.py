from accounts.models import Agency, User


def agencies_visible_to(user: User):
    qs = Agency.objects.all()
    if user.is_broker:
        return qs.filter(pk=user.agency_id)
    return qs


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()
