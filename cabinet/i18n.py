class RussianByDefaultMiddleware:
    """The cabinet speaks Russian unless the user picks English in the header
    (a cookie set by Django's set_language view): the browser's
    Accept-Language is not consulted, so an English-language browser still
    gets the Russian cabinet the manual describes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
