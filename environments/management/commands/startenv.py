from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from environments.engine.kit.startenv import ENGINE, lay_out, register_import


class Command(BaseCommand):
    help = (
        "Lay out a new environment NAME (id NAME-v1) from the authoring kit's template, in "
        "environments/engine/NAME, and register it; see docs/environments.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="a lowercase identifier: the module and the id NAME-v1")
        parser.add_argument("--title", help='what the site calls itself (default: "Name desk")')
        parser.add_argument(
            "--directory",
            type=Path,
            help="write the package here instead, without registering it in the engine",
        )

    def handle(self, *args, name: str, title: str | None, directory: Path | None, **options):
        try:
            written = lay_out(name, directory or ENGINE, title)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for path in written:
            self.stdout.write(f"wrote {path}")
        if directory is None:
            register_import(name)
            self.stdout.write("registered it in environments/engine/__init__.py")
        self.stdout.write(
            f"check it: python -m environments.engine.check {name} --seeds 20\n"
            "then make it yours: docs/environments.md walks through each file"
        )
