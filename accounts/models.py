import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Agency(models.Model):
    """A broker agency: its users see its own book of business only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="agency_name_ci_unique"),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    STAFF = "staff", "Staff"
    BROKER = "broker", "Broker"
    INTEGRATOR = "integrator", "Integrator"


def default_authority_limit() -> Decimal:
    """The amount a staff user may approve or pay alone (DEFAULT_AUTHORITY_LIMIT)."""
    return Decimal(str(getattr(settings, "DEFAULT_AUTHORITY_LIMIT", "10000.00")))


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("role", Role.BROKER)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(role=Role.STAFF, is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-case.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.BROKER)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the admin site (staff role)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    authority_limit = models.DecimalField(
        max_digits=14, decimal_places=2, default=default_authority_limit,
        help_text="The largest claim this person may approve, and the largest payment "
                  "they may make, without a second person's approval.")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=~models.Q(role="broker") | models.Q(agency__isnull=False),
                name="broker_has_agency",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["staff", "broker", "integrator"]),
                name="user_role_valid",
            ),
            models.CheckConstraint(condition=models.Q(authority_limit__gte=0),
                                   name="user_authority_limit_not_negative"),
        ]

    def __str__(self):
        return self.email

    @property
    def display_name(self) -> str:
        """The person's name for people to read (timelines, queues), else the e-mail."""
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    def clean(self):
        super().clean()
        self.email = (self.email or "").strip().lower()

    @property
    def is_staff_role(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_broker(self) -> bool:
        return self.role == Role.BROKER

    @property
    def is_integrator(self) -> bool:
        return self.role == Role.INTEGRATOR

    # Staff (claims handlers, underwriters, compliance) may do everything the
    # model permissions allow anyone; integrators get only what is granted.
    def has_perm(self, perm, obj=None):
        if self.is_active and self.role == Role.STAFF:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        if self.is_active and self.role == Role.STAFF:
            return True
        return super().has_module_perms(app_label)


class LoginAttemptCounter(models.Model):
    """Failed sign-ins for one email or one client address, and the lock they earned.

    Held in PostgreSQL, not the cache: a lockout is a security control, and it must
    hold when Redis is unreachable or has been flushed. `key` is a hash of the
    lower-cased email or of the address, never the value itself.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        IP = "ip", "Client address"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="login_attempt_kind_key_unique"),
        ]

    def __str__(self):
        return f"{self.kind} {self.key[:8]}…: {self.failures} failure(s)"


class TokenFamily(models.Model):
    """One API login's chain of refresh tokens. Each refresh token carries its
    family's id (the `fam` claim, copied into the access tokens made from it); only
    the newest (`current_jti`) may be exchanged. Presenting any other one of the
    family means it was copied: the whole family is revoked (theft detection)."""

    class Reason(models.TextChoices):
        REUSE = "reuse", "A rotated refresh token was reused"
        LOGOUT = "logout", "Logged out"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    current_jti = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)

    class Meta:
        verbose_name_plural = "token families"
        indexes = [models.Index(fields=["user", "-created_at"], name="token_family_user")]

    def __str__(self):
        return f"token family {str(self.pk)[:8]}"
