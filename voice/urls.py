from django.urls import path

from . import views

app_name = "voice"

urlpatterns = [
    path("send/", views.send, name="send"),
    path("send/estimate/", views.estimate, name="estimate"),
    path("audio/<int:pk>.wav", views.audio_play, name="audio_play"),
    path("reports/", views.reports, name="reports"),
    path("numbers/", views.numbers, name="numbers"),
    path("numbers/<int:pk>/withdraw/", views.number_withdraw, name="number_withdraw"),
    path("tariffs/", views.tariffs, name="tariffs"),
    path("callpassword/", views.callpassword, name="callpassword"),
]
