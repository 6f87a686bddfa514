from django.contrib.contenttypes.models import ContentType

from compliance.models import AuditEntry


def entries_for(instance):
    return list(AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_pk=str(instance.pk)
    ).order_by("seq"))


def actions_for(instance):
    return [e.action_name for e in entries_for(instance)]
