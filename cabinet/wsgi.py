import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cabinet.settings")
django_application = get_wsgi_application()

# No production start on development secrets (cabinet/deploy.py).
from cabinet.deploy import refuse_insecure_start  # noqa: E402

refuse_insecure_start()

# The JSON API's one-message sends are served in front of Django where they can
# be (integrations/fastlane.py); everything else goes to Django unchanged.
from integrations.fastlane import FastLane  # noqa: E402  (needs settings loaded)

application = FastLane(django_application)
