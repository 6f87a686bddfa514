import re

from django.core.exceptions import ValidationError

SPECIALS = "!@#$%^&*"


class PasswordPolicyValidator:
    """12+ characters with an upper, a lower, a digit and one of !@#$%^&*."""

    min_length = 12

    def validate(self, password, user=None):
        problems = []
        if len(password) < self.min_length:
            problems.append(f"at least {self.min_length} characters")
        if not re.search(r"[A-Z]", password):
            problems.append("an upper-case letter")
        if not re.search(r"[a-z]", password):
            problems.append("a lower-case letter")
        if not re.search(r"[0-9]", password):
            problems.append("a digit")
        if not any(c in SPECIALS for c in password):
            problems.append(f"one of {SPECIALS}")
        if problems:
            raise ValidationError(
                "The password needs " + ", ".join(problems) + ".",
                code="password_policy",
            )

    def get_help_text(self):
        return (
            f"At least {self.min_length} characters, with an upper-case letter, a "
            f"lower-case letter, a digit and one of {SPECIALS}."
        )
