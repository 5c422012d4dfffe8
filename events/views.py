"""«События» (manual section 12): event types with their handlers; a
handler's page with its run history; the handler form (conditions, then
«Добавить действие»)."""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cabinet.permissions import SEND, cabinet_view

from . import actions as act
from . import selectors, services
from .forms import HandlerForm
from .kinds import KINDS, OPS, kind_fields


def conditions_text(handler, groups: dict) -> list[str]:
    spec = KINDS.get(handler.kind)
    labels = {f.key: str(f.label) for f in kind_fields(spec)} if spec else {}
    out = []
    for c in handler.conditions or []:
        value = c["value"]
        if c["field"] == "group":
            value = f"«{groups.get(int(value), value)}»"
        label = labels.get(c["field"], c["field"])
        out.append(f"{label} {OPS.get(c['op'], c['op'])} {value}")
    return out


def _decorate(handler, groups):
    handler.conditions_text = conditions_text(handler, groups)
    handler.actions_text = [
        act.describe(a.kind, a.config, groups) for a in handler.actions.all()
    ]
    return handler


@cabinet_view(SEND)
def events_page(request):
    groups = selectors.group_names(account_id=request.account.pk)
    rows = [
        (kind, [_decorate(h, groups) for h in handlers])
        for kind, handlers in selectors.kinds_with_handlers(
            account_id=request.account.pk
        )
    ]
    return render(request, "events/list.html", {"rows": rows})


@cabinet_view(SEND)
def handler_page(request, pk):
    handler = selectors.handler_get(account_id=request.account.pk, pk=pk)
    groups = selectors.group_names(account_id=request.account.pk)
    page = Paginator(selectors.runs(handler=handler), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "events/handler.html",
        {
            "handler": _decorate(handler, groups),
            "kind": KINDS.get(handler.kind),
            "page": page,
        },
    )


@cabinet_view(SEND)
@require_POST
def handler_toggle(request, pk):
    handler = selectors.handler_get(account_id=request.account.pk, pk=pk)
    services.handler_set_active(handler=handler, active=not handler.is_active)
    if request.POST.get("next") == "handler":
        return redirect("events:handler", handler.pk)
    return redirect("events:list")


@cabinet_view(SEND)
@require_POST
def handler_delete(request, pk):
    handler = selectors.handler_get(account_id=request.account.pk, pk=pk)
    services.handler_delete(handler=handler)
    flash.success(request, _("Обработчик удалён."))
    return redirect("events:list")


def _prefixed(post, prefix: str) -> dict:
    """The action's form data without its prefix (lists kept as lists)."""
    out = {}
    for key in post:
        if key.startswith(prefix):
            values = post.getlist(key)
            out[key[len(prefix) :]] = values if len(values) > 1 else values[0]
    return out


# Fields shown only while their switch is on (as on the send form).
DEPENDENTS = {
    "window": ("window_from", "window_to", "window_weekdays"),
    "ttl_on": ("ttl",),
}


class _Block:
    def __init__(self, index, kind, form):
        self.index, self.kind, self.form = index, kind, form
        self.label = act.LABELS.get(kind, kind)

    def rows(self):
        """(field, [fields shown while it is on]) in the form's order."""
        hidden = {d for deps in DEPENDENTS.values() for d in deps}
        out = []
        for field in self.form.visible_fields():
            if field.name in hidden:
                continue
            deps = [
                self.form[d]
                for d in DEPENDENTS.get(field.name, ())
                if d in self.form.fields
            ]
            out.append((field, deps))
        return out


def _blocks_from_post(request, spec) -> list[_Block]:
    post = request.POST
    try:
        count = min(int(post.get("actions_count") or 0), services.MAX_ACTIONS)
    except ValueError:
        count = 0
    kinds = [post.get(f"a{i}-kind") or "" for i in range(count)]
    remove = post.get("remove_action")
    if remove is not None and remove.isdigit() and int(remove) < len(kinds):
        drop = int(remove)
    else:
        drop = None
    blocks = []
    for i, kind in enumerate(kinds):
        if i == drop or kind not in spec.actions:
            continue
        data = post.copy()
        # Renumber: the block keeps its data under its new prefix.
        new = len(blocks)
        if new != i:
            for key, value in _prefixed(post, f"a{i}-").items():
                if isinstance(value, list):
                    data.setlist(f"a{new}-{key}", value)
                else:
                    data[f"a{new}-{key}"] = value
        bound = "save" in post
        form = act.form_for(
            kind,
            account=request.account,
            data=data if bound else None,
            initial=_prefixed(post, f"a{i}-") if not bound else None,
            prefix=f"a{new}",
        )
        blocks.append(_Block(new, kind, form))
    added = post.get("add_action") if "add" in post else None
    if added in spec.actions and len(blocks) < services.MAX_ACTIONS:
        n = len(blocks)
        blocks.append(
            _Block(
                n, added, act.form_for(added, account=request.account, prefix=f"a{n}")
            )
        )
    return blocks


@cabinet_view(SEND)
def handler_edit(request, kind=None, pk=None):
    account = request.account
    handler = None
    if pk is not None:
        handler = selectors.handler_get(account_id=account.pk, pk=pk)
        kind = handler.kind
    spec = KINDS.get(kind)
    if spec is None:
        raise Http404
    fields = kind_fields(spec, selectors.custom_fields(account_id=account.pk))
    form_kw = {
        "kind": spec,
        "groups": act.sms_compose.compose_groups(account_id=account.pk),
        "date_fields": selectors.date_fields(account_id=account.pk),
        "fields": fields,
    }
    if request.method == "POST":
        form = HandlerForm(request.POST, **form_kw)
        blocks = _blocks_from_post(request, spec)
        if "save" in request.POST and form.is_valid():
            try:
                handler = services.handler_save(
                    account=account,
                    kind=spec.code,
                    name=form.cleaned_data.get("name") or "",
                    conditions=form.conditions(),
                    settings=form.settings(),
                    is_active=bool(form.cleaned_data.get("is_active")),
                    max_runs_per_hour=form.cleaned_data.get("max_runs_per_hour"),
                    actions=[
                        {
                            "kind": b.kind,
                            "config": _prefixed(b.form.data, f"a{b.index}-"),
                        }
                        for b in blocks
                    ],
                    handler=handler,
                    user=request.user,
                )
            except services.HandlerError as exc:
                flash.error(request, exc.message)
            else:
                flash.success(request, _("Обработчик сохранён."))
                return redirect("events:handler", handler.pk)
    else:
        initial = HandlerForm.initial_for(handler) if handler else {}
        form = HandlerForm(initial=initial, **form_kw)
        blocks = []
        if handler is not None:
            for i, a in enumerate(handler.actions.all()):
                blocks.append(
                    _Block(
                        i,
                        a.kind,
                        act.form_for(
                            a.kind,
                            account=account,
                            initial=act.initial_from_config(a.kind, a.config),
                            prefix=f"a{i}",
                        ),
                    )
                )
    return render(
        request,
        "events/handler_form.html",
        {
            "form": form,
            "kind": spec,
            "handler": handler,
            "blocks": blocks,
            "action_choices": [(code, act.LABELS[code]) for code in spec.actions],
        },
    )
