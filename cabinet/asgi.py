import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cabinet.settings")
application = get_asgi_application()

# No production start on development secrets (cabinet/deploy.py).
from cabinet.deploy import refuse_insecure_start  # noqa: E402

refuse_insecure_start()
