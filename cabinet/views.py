from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import EmailAuthenticationForm, RegistrationForm
from .menu import find_item
from .permissions import cabinet_view


@cabinet_view()
def dashboard(request):
    from messaging.selectors import recent_campaigns

    return render(request, "cabinet/dashboard.html", {
        "campaigns": recent_campaigns(account_id=request.account.pk, limit=10),
    })


@cabinet_view()
def in_development(request, slug):
    found = find_item(slug)
    if found is None:
        raise Http404
    section, item = found
    return render(request, "cabinet/in_development.html", {"section": section, "item": item})


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def register(request):
    if request.user.is_authenticated:
        return redirect("cabinet:dashboard")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user = services.account_create(
            email=d["email"], password=d["password1"], name=d["organisation"],
            full_name=d["full_name"], phone=d["phone"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Добро пожаловать! Аккаунт создан."))
        return redirect("cabinet:dashboard")
    return render(request, "registration/register.html", {"form": form})


@cabinet_view()
def notifications(request):
    page = Paginator(selectors.notifications(account_id=request.account.pk), 30).get_page(
        request.GET.get("page"))
    return render(request, "cabinet/notifications.html", {"page": page})


@require_POST
@cabinet_view()
def notifications_read(request):
    services.notifications_mark_read(account=request.account)
    return redirect("cabinet:notifications")


@cabinet_view()
def login_history(request):
    page = Paginator(selectors.login_history(account_id=request.account.pk), 50).get_page(
        request.GET.get("page"))
    return render(request, "cabinet/login_history.html", {"page": page})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("cabinet:password_change_done")
