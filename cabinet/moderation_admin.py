"""The one admin behaviour of every moderated model (``cabinet.moderation``).

``DecisionAdmin`` gives a moderated model's admin: the list filtered by
decision status, an approve action and a reject action with an intermediate
page asking for the reason (the item's reason codes and/or a text, a comment),
the same two decisions per item from its change page, the decision fields
read-only, nothing added by hand, and every page for active staff only.  Every
decision goes through ``cabinet.moderation.decide``."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .moderation import Decision, DecisionError, decide, reason_check

DECISION_READONLY = (
    "status",
    "reason",
    "reason_text",
    "comment",
    "created_at",
    "decided_at",
    "decided_by",
)


class RejectForm(forms.Form):
    """The reason of a rejection: the model's reason codes when it has them,
    a text (required when it has none), and a comment for the client."""

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        if model.Reason is not None:
            self.fields["reason"] = forms.ChoiceField(
                label=gettext_lazy("Причина отказа"),
                choices=[("", "---------"), *model.Reason.choices],
            )
        self.fields["reason_text"] = forms.CharField(
            label=gettext_lazy("Причина (увидит клиент)")
            if model.Reason is None
            else gettext_lazy("Пояснение причины (увидит клиент)"),
            max_length=300,
            required=model.Reason is None,
            widget=forms.TextInput(attrs={"class": "vTextField"}),
        )
        self.fields["comment"] = forms.CharField(
            label=gettext_lazy("Комментарий для клиента"),
            max_length=300,
            required=False,
            widget=forms.TextInput(attrs={"class": "vTextField"}),
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["reason"], data["reason_text"] = reason_check(
                self.model,
                reason=data.get("reason", ""),
                reason_text=data.get("reason_text", ""),
            )
        except DecisionError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


def _is_staff(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class DecisionAdmin(admin.ModelAdmin):
    """Base ``ModelAdmin`` of a ``Decidable`` model."""

    list_filter = ("status",)
    actions = ["approve", "reject"]
    change_form_template = "admin/moderation/change_form.html"

    # --- staff only; items come from the client, never added here --------------

    def has_module_permission(self, request):
        return _is_staff(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _is_staff(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _is_staff(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_staff(request) and super().has_delete_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The item's fields are the client's and the decision's are read-only:
        # it is decided with the page's "Одобрить" / "Отклонить…", not saved.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return filters if "status" in filters else ["status", *filters]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [f for f in DECISION_READONLY if f not in fields]

    # --- deciding ------------------------------------------------------------------

    def decide_items(self, request, items, *, approve: bool, **reason) -> int:
        """Decide each pending item; says how many were decided, and why any
        could not be.  Returns the number decided."""
        done = skipped = 0
        for item in items:
            try:
                result = decide(
                    item=item, approve=approve, staff_user=request.user, **reason
                )
            except DecisionError as exc:
                self.message_user(request, f"{item}: {exc.message}", messages.ERROR)
                continue
            if result.changed:
                done += 1
            else:
                skipped += 1
        text = _("Одобрено: %(n)s") if approve else _("Отклонено: %(n)s")
        self.message_user(request, text % {"n": done}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                _("Уже рассмотрены другим сотрудником: %(n)s") % {"n": skipped},
                messages.WARNING,
            )
        return done

    @admin.action(
        description=gettext_lazy("Одобрить выбранные"), permissions=["change"]
    )
    def approve(self, request, queryset):
        self.decide_items(request, self._pending(queryset), approve=True)

    @admin.action(
        description=gettext_lazy("Отклонить выбранные…"), permissions=["change"]
    )
    def reject(self, request, queryset):
        form = RejectForm(
            request.POST if "apply" in request.POST else None, model=self.model
        )
        if form.is_bound and form.is_valid():
            self.decide_items(
                request, self._pending(queryset), approve=False, **form.cleaned_data
            )
            return None
        return self._decision_page(
            request,
            form=form,
            items=self._pending(queryset),
            approve=False,
            selected=request.POST.getlist(ACTION_CHECKBOX_NAME),
        )

    def _pending(self, queryset):
        return list(queryset.filter(status=Decision.PENDING))

    def _decision_page(self, request, *, form, items, approve, selected=None):
        opts = self.model._meta
        return render(
            request,
            "admin/moderation/decision.html",
            {
                **self.admin_site.each_context(request),
                "title": (
                    _("Одобрить: %(what)s") if approve else _("Отклонить: %(what)s")
                )
                % {"what": opts.verbose_name_plural},
                "form": form,
                "items": items,
                "selected": selected,
                "action": "approve" if approve else "reject",
                "opts": opts,
                "changelist_url": reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_changelist"
                ),
            },
        )

    # --- one item, from its change page -----------------------------------------

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.decide_view),
                {"approve": True},
                name=f"{name}_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.decide_view),
                {"approve": False},
                name=f"{name}_reject",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, object_id, approve):
        """GET: confirm (and for a rejection, ask the reason); POST: decide."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        opts = self.model._meta
        change_url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
        )
        if obj.status != Decision.PENDING:
            self.message_user(
                request,
                _("Решение по «%(o)s» уже принято.") % {"o": obj},
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        form = (
            None
            if approve
            else RejectForm(
                request.POST if request.method == "POST" else None, model=self.model
            )
        )
        if request.method == "POST" and (form is None or form.is_valid()):
            self.decide_items(
                request,
                [obj],
                approve=approve,
                **(form.cleaned_data if form is not None else {}),
            )
            return HttpResponseRedirect(change_url)
        return self._decision_page(request, form=form, items=[obj], approve=approve)
