"""``/favicon.ico``: browsers ask for it on every page that names no icon
(the API docs, the admin, files opened directly); it is our SVG icon."""

from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static


def favicon(request):
    return HttpResponsePermanentRedirect(static("favicon.svg"))
