import importlib
import json
import pkgutil

from django.core.management.base import BaseCommand, CommandError

import bench


class Command(BaseCommand):
    """``manage.py bench <name> [--option value …]`` runs ``bench/<name>.py``.

    Each benchmark module defines ``add_arguments(parser)`` and ``run(**options) ->
    dict``; the result is printed as one JSON line."""

    help = "Run a benchmark from bench/ and print one JSON line."

    def run_from_argv(self, argv):
        # argv: manage.py bench NAME [options]
        if len(argv) < 3 or argv[2].startswith("-"):
            names = ", ".join(m.name for m in pkgutil.iter_modules(bench.__path__))
            raise SystemExit(f"usage: manage.py bench NAME [options]  (NAME: {names})")
        self._bench_name = argv[2]
        super().run_from_argv(argv[:2] + argv[3:])

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        name = getattr(self, "_bench_name", None)
        if name:
            self._module = self._load(name)
            if hasattr(self._module, "add_arguments"):
                self._module.add_arguments(parser)
        return parser

    def _load(self, name):
        try:
            return importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            raise CommandError(f"no benchmark named {name!r}") from exc

    def handle(self, *args, **options):
        for key in (
            "verbosity",
            "settings",
            "pythonpath",
            "traceback",
            "no_color",
            "force_color",
            "skip_checks",
        ):
            options.pop(key, None)
        result = self._module.run(**options)
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
