"""Rendering speed (S4/S5): ``manage.py bench render --recipients 1000000``.

Renders a personalised text (salutation by gender, name, patronymic, a custom
field) for N recipients, then the same text with a short link per message
(an HMAC each), exactly as prepare calls ``Renderer.render``.  No database:
the renderer is pure Python once built."""

import time

from messaging.links import LinkMaker
from messaging.rendering import Renderer

TEXT = (
    "[Уважаемый] [Имя] [Отчество]! По карте [card] вам скидка 15% до воскресенья: "
    "https://shop.example/autumn-sale"
)


def add_arguments(parser):
    parser.add_argument("--recipients", type=int, default=1_000_000)


def _fields(n: int):
    names = [("Иван", "Сергеевич", "m"), ("Мария", "Петровна", "f")]
    for i in range(n):
        first, middle, gender = names[i & 1]
        yield {
            "phone": f"+7916{i:07d}",
            "first_name": first,
            "middle_name": middle,
            "gender": gender,
            "extra": {"card": f"A-{i}"},
        }


def _time(renderer: Renderer, n: int) -> tuple[float, int]:
    start = time.perf_counter()
    total = 0
    for i, fields in enumerate(_fields(n)):
        total += len(renderer.render(fields, i + 1))
    return time.perf_counter() - start, total


def run(*, recipients: int, **_options) -> dict:
    plain = Renderer(TEXT, custom_fields={"card": "card"})
    url = TEXT.rsplit(" ", 1)[1]
    linked = Renderer(TEXT, custom_fields={"card": "card"}, links={url: LinkMaker(1)})
    base_seconds, _ = _time(Renderer("x"), recipients)  # the loop and field dicts
    plain_seconds, _ = _time(plain, recipients)
    linked_seconds, _ = _time(linked, recipients)
    return {
        "recipients": recipients,
        "loop_seconds": round(base_seconds, 2),
        "render_seconds": round(plain_seconds, 2),
        "render_per_s": round(recipients / plain_seconds),
        "render_with_short_link_seconds": round(linked_seconds, 2),
        "render_with_short_link_per_s": round(recipients / linked_seconds),
    }
