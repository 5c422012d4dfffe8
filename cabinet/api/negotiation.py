"""Content negotiation of the API's file exports."""

from rest_framework.negotiation import DefaultContentNegotiation


class FileFormatNegotiation(DefaultContentNegotiation):
    """For endpoints whose ``?format=`` names the file they export (xlsx,
    csv).  DRF reads ``format`` as its renderer override (URL_FORMAT_OVERRIDE)
    and answers 404 when no renderer has that name — ``?format=csv`` on the
    groups export was a 404.  The view decides what the parameter means;
    errors still come back in the API's JSON shape."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
