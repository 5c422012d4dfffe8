from django.contrib.auth import logout
from django.shortcuts import redirect


class AccountMiddleware:
    """Puts the signed-in user's account on ``request.account`` and signs out the
    users of a blocked account."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.account_id:
            account = user.account
            if account.is_blocked:
                logout(request)
                return redirect("cabinet:login")
            request.account = account
        return self.get_response(request)
