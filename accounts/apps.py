from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and agencies"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from accounts import schema  # noqa: F401 - registers the OpenAPI extension
        from accounts.sockets import close_user_sockets

        def _close_sockets(sender, request, user, **kwargs):
            # portal and admin sign-out: that user's live sockets close too
            close_user_sockets(user_id=getattr(user, "pk", None))

        user_logged_out.connect(_close_sockets, dispatch_uid="accounts.close_user_sockets",
                                weak=False)
