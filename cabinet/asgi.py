"""The ASGI application (uvicorn): Django's views over HTTP and the online
chat's WebSockets (Django Channels, chat/routing.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cabinet.settings")
django_application = get_asgi_application()

# After Django is set up: the routes import models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from cabinet.deploy import refuse_insecure_start  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {"http": django_application, "websocket": URLRouter(websocket_urlpatterns)}
)

# No production start on development secrets (cabinet/deploy.py).
refuse_insecure_start()
