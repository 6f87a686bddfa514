"""Portal page: a person's email notification settings."""

from django.contrib import messages
from django.shortcuts import redirect

from accounts.views import portal_page, render_page
from events import services
from events.forms import NotificationSettingsForm


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def notification_settings(request):
    wanted = services.claim_emails_wanted(request.user)
    form = NotificationSettingsForm(request.POST if request.method == "POST" else None,
                                    initial={"claim_decision_emails": wanted})
    if request.method == "POST" and form.is_valid():
        services.notification_preference_set(
            user=request.user, claim_decision_emails=form.cleaned_data["claim_decision_emails"])
        messages.success(request, "Email settings saved.")
        return redirect("portal:notification-settings")
    return render_page(request, "events/notification_settings.html", {"form": form})
