"""The broker portal: server-rendered pages from each app's views.py."""

app_name = "portal"

urlpatterns: list = []
