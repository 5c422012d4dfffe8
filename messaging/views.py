from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cabinet.permissions import SEND, cabinet_view

from . import selectors, services
from .forms import QuickSmsForm
from .models import Source


@cabinet_view(SEND)
def sms_send(request):
    form = QuickSmsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            campaign = services.campaign_launch(
                account=request.account, channel="sms", text=d["text"],
                sender=d["sender"], phones=[d["phone"]], source=Source.CABINET,
                created_by=request.user,
            )
        except services.LaunchError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            flash.success(request, _("Сообщение принято к отправке. Стоимость: %(cost)s ₽")
                          % {"cost": number_format(campaign.cost, 2)})
            return redirect("messaging:messages")
    return render(request, "messaging/sms_send.html", {"form": form})


@cabinet_view()
def messages_page(request):
    page = Paginator(selectors.messages_list(account_id=request.account.pk), 50).get_page(
        request.GET.get("page"))
    template = "messaging/messages.html"
    if request.htmx and not request.htmx.boosted:
        template += "#rows"
    return render(request, template, {"page": page})
