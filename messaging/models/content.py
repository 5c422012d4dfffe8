"""Composing: sender names, templates, moderation, schedules, greetings, short links.
(Filled in by the SMS compose work.)"""

__all__: list[str] = []
