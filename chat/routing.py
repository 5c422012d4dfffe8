from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from .consumers import OperatorConsumer, VisitorConsumer

websocket_urlpatterns = [
    # The widget runs on clients' sites: the consumer checks the origin against
    # the registered site itself.
    path("ws/chat/visitor/", VisitorConsumer.as_asgi()),
    path(
        "ws/chat/operator/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(OperatorConsumer.as_asgi())),
    ),
]
