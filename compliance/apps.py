from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db import connections
        from django.db.backends.signals import connection_created

        from accounts.signals import refresh_token_reused
        from compliance import audit, guard
        from documents.signals import document_downloaded

        audit.register_models()
        connection_created.connect(guard.install, dispatch_uid="compliance-guard")
        for connection in connections.all(initialized_only=True):
            guard.install(None, connection)
        user_logged_in.connect(audit.on_login, dispatch_uid="compliance-login")
        user_login_failed.connect(audit.on_login_failed, dispatch_uid="compliance-login-failed")
        refresh_token_reused.connect(audit.on_refresh_token_reused,
                                     dispatch_uid="compliance-token-reuse")
        document_downloaded.connect(audit.on_document_downloaded,
                                    dispatch_uid="compliance-download")
