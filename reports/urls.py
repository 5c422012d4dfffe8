from django.urls import path, register_converter

from messaging import registry

from . import views

app_name = "reports"


class ChannelConverter:
    """A registered channel code; anything else is a 404."""

    regex = "[a-z][a-z0-9_]{0,15}"

    def to_python(self, value: str) -> str:
        try:
            registry.get_channel(value)
        except LookupError:
            raise ValueError(value) from None
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ChannelConverter, "channel")

urlpatterns = [
    # "Рассылка СМС → Отчёты": the SMS report is the default.
    path("", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/breakdown/", views.campaign_breakdown, name="breakdown"),
    path(
        "campaigns/<int:pk>/messages/",
        views.campaign_messages,
        name="campaign_messages",
    ),
    path(
        "campaigns/<int:pk>/messages/export/",
        views.campaign_messages_export,
        name="campaign_messages_export",
    ),
    path(
        "campaigns/<int:pk>/recipients/", views.campaign_recipients, name="recipients"
    ),
    path("<channel:channel>/", views.campaigns, name="channel_campaigns"),
    path("<channel:channel>/deferred/", views.deferred, name="deferred"),
    path("<channel:channel>/messages/", views.messages, name="messages"),
    path(
        "<channel:channel>/messages/export/",
        views.messages_export,
        name="messages_export",
    ),
    path("<channel:channel>/charts/", views.charts, name="charts"),
    path("<channel:channel>/sources/", views.sources, name="sources"),
    path("<channel:channel>/unsubscribed/", views.unsubscribed, name="unsubscribed"),
    path("<channel:channel>/replies/", views.replies, name="replies"),
    path("<channel:channel>/export/", views.export, name="export"),
    path("<channel:channel>/filters/", views.filter_save, name="filter_save"),
    path(
        "<channel:channel>/filters/<int:pk>/delete/",
        views.filter_delete,
        name="filter_delete",
    ),
]


def channel_reports_view(channel: str):
    """For a channel app's own ``<app>:reports`` URL (the left menu's
    "Отчёты" item of voice, Viber…): ``path("reports/",
    channel_reports_view("voice"), name="reports")``.  Redirects to this
    channel's report once the channel is registered, to the "в разработке"
    page until then."""
    from django.shortcuts import redirect

    def view(request):
        try:
            registry.get_channel(channel)
        except LookupError:
            return redirect("cabinet:in_development", f"{channel}-reports")
        return redirect("reports:channel_campaigns", channel)

    return view
