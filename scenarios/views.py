"""Scenario pages (manual section 7): «Мои сценарии», «Новый сценарий» (own
chain or a ready template), the builder, the launch with the cost before it,
and a run's report.  Logic lives in services/selectors/blocks."""

import json
import uuid

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cabinet.permissions import SEND, cabinet_view
from messaging import compose, senders
from messaging.planning import LaunchError

from . import blocks, selectors, services
from .forms import LaunchForm
from .models import Run, Scenario


def _scenario(request, pk) -> Scenario:
    try:
        return selectors.scenario_get(account_id=request.account.pk, pk=pk)
    except Scenario.DoesNotExist:
        raise Http404 from None


def _run(request, pk) -> Run:
    try:
        return selectors.run_get(account_id=request.account.pk, pk=pk)
    except Run.DoesNotExist:
        raise Http404 from None


@cabinet_view()
def scenario_list(request):
    return render(
        request,
        "scenarios/list.html",
        {
            "scenarios": selectors.scenario_list(account_id=request.account.pk),
            "runs": selectors.run_list(account_id=request.account.pk)[:20],
        },
    )


@cabinet_view()
def scenario_new(request):
    return render(
        request,
        "scenarios/new.html",
        {
            "templates": [
                (slug, title, [selectors.channel_label(c) for c in chain])
                for slug, title, chain in blocks.templates()
            ]
        },
    )


def _palette(account) -> list[dict]:
    """Each registered channel with what its block's form offers."""
    return [
        {
            "code": kind.code,
            "label": str(kind.label),
            "senders": senders.sender_choices(account_id=account.pk, channel=kind.code),
            "fields": blocks.content_fields(kind),
        }
        for kind in blocks.palette()
    ]


def _block_views(account, steps: list[dict], palette: list[dict]) -> list[dict]:
    by_code = {p["code"]: p for p in palette}
    out = []
    for block in steps:
        channel = by_code.get(block.get("channel"))
        if channel is None:
            continue
        options = block.get("options") or {}
        content = block.get("content") or {}
        out.append(
            {
                "channel": channel,
                "sender": block.get("sender") or "",
                "text": block.get("text") or "",
                "values": {
                    f.name: (
                        json.dumps(content.get(f.name), ensure_ascii=False)
                        if f.kind == "json" and content.get(f.name)
                        else content.get(f.name, "")
                    )
                    for f in channel["fields"]
                },
                "ttl": (int(options["ttl"]) // 60) if options.get("ttl") else "",
                "window_from": (options.get("window") or {}).get("from", ""),
                "window_to": (options.get("window") or {}).get("to", ""),
                "transliterate": bool(options.get("transliterate")),
                "decision": int(block.get("decision") or blocks.DEFAULT_DECISION) // 60,
            }
        )
    return out


def _posted_steps(raw: str):
    """The chain the builder posts (JSON); minutes become seconds."""
    try:
        steps = json.loads(raw or "[]")
    except ValueError:
        return None
    if not isinstance(steps, list):
        return None
    out = []
    for s in steps:
        if not isinstance(s, dict):
            return None
        block = dict(s)
        options = dict(block.get("options") or {})
        for key, target in (("decision_minutes", None), ("ttl_minutes", "ttl")):
            value = block.pop(key, None)
            if value in (None, ""):
                continue
            try:
                seconds = int(float(value) * 60)
            except (TypeError, ValueError):
                seconds = value  # blocks.block_clean explains it
            if target is None:
                block["decision"] = seconds
            else:
                options[target] = seconds
        block["options"] = options
        out.append(block)
    return out


@cabinet_view(SEND)
def scenario_edit(request, pk=None):
    scenario = _scenario(request, pk) if pk is not None else None
    palette = _palette(request.account)
    error = None
    name = scenario.name if scenario else ""
    if scenario is not None:
        steps = scenario.steps
    else:
        slug = request.GET.get("template", "")
        steps = blocks.template_blocks(slug)
        name = next((str(t) for s, t, _c in blocks.templates() if s == slug), "")
    if request.method == "POST":
        name = request.POST.get("name", "")
        posted = _posted_steps(request.POST.get("steps", ""))
        if posted is None:
            error = blocks.BlockError(_("Сценарий задан неверно: обновите страницу."))
        else:
            steps = posted
            try:
                saved = services.scenario_save(
                    account=request.account, name=name, steps=posted, scenario=scenario
                )
            except blocks.BlockError as exc:
                error = exc
            else:
                flash.success(request, _("Сценарий сохранён."))
                return redirect("scenarios:edit", pk=saved.pk)
    return render(
        request,
        "scenarios/builder.html",
        {
            "scenario": scenario,
            "name": name,
            "palette": palette,
            "chain": _block_views(request.account, steps, palette),
            "error": error,
            "min_decision": blocks.MIN_DECISION // 60,
            "max_decision": blocks.MAX_DECISION // 60,
        },
        status=400 if error else 200,
    )


@require_POST
@cabinet_view(SEND)
def scenario_copy(request, pk):
    copy = services.scenario_copy(scenario=_scenario(request, pk))
    flash.success(request, _("Сценарий скопирован."))
    return redirect("scenarios:edit", pk=copy.pk)


@require_POST
@cabinet_view(SEND)
def scenario_delete(request, pk):
    services.scenario_delete(scenario=_scenario(request, pk))
    flash.success(request, _("Сценарий удалён."))
    return redirect("scenarios:list")


@cabinet_view(SEND)
def scenario_launch(request, pk):
    scenario = _scenario(request, pk)
    kwargs = {"groups": compose.compose_groups(account_id=request.account.pk)}
    form = LaunchForm(request.POST or None, **kwargs)
    estimate = error = None
    if request.method == "POST" and form.is_valid():
        audience = form.audience()
        try:
            steps = blocks.chain_clean(request.account, scenario.steps)
            if not audience["group_ids"] and not audience["phones"]:
                raise LaunchError(
                    _("Добавьте получателей: выберите группу или введите телефоны.")
                )
            if request.POST.get("action") == "launch":
                run = services.run_launch(
                    account=request.account,
                    scenario=scenario,
                    group_ids=audience["group_ids"],
                    filters=audience["filters"],
                    phones=audience["phones"],
                    send_at=audience["send_at"],
                    user=request.user,
                    client_id=form.cleaned_data.get("submit_token") or "",
                )
                flash.success(request, _("Сценарий запущен."))
                return redirect("scenarios:run", pk=run.pk)
            estimate = services.estimate(
                account=request.account,
                steps=steps,
                group_ids=audience["group_ids"],
                filters=audience["filters"],
                phones=audience["phones"],
            )
        except blocks.BlockError as exc:
            error = exc.as_text()
        except LaunchError as exc:
            error = exc.message
    return render(
        request,
        "scenarios/launch.html",
        {
            "scenario": scenario,
            "form": form,
            "estimate": estimate,
            "error": error,
            "chain": [selectors.channel_label(b["channel"]) for b in scenario.steps],
            "token": uuid.uuid4().hex,
        },
        status=400 if (error or form.errors) else 200,
    )


@cabinet_view()
def run_detail(request, pk):
    run = _run(request, pk)
    phone = request.GET.get("phone", "").strip()[:20]
    return render(
        request,
        "scenarios/run.html",
        {
            "run": run,
            "report": selectors.run_report(run),
            "recipients": selectors.run_recipients(run, phone=phone),
            "phone": phone,
        },
    )


@require_POST
@cabinet_view(SEND)
def run_cancel(request, pk):
    services.run_cancel(run=_run(request, pk))
    flash.success(request, _("Сценарий остановлен."))
    return redirect("scenarios:run", pk=pk)
