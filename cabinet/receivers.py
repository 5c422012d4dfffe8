from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .net import client_ip
from .services import login_record


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    login_record(
        user=user,
        ip=client_ip(request) if request else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "") if request else "",
    )
