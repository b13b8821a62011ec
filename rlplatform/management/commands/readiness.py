import json

from django.core.management.base import BaseCommand, CommandError

from rlplatform.health import readiness


class Command(BaseCommand):
    help = "Check that the database and the broker answer (as /readyz does); exit 1 if not."

    def handle(self, *args, **options) -> None:
        report = readiness()
        self.stdout.write(json.dumps(report, indent=2))
        if not report["ready"]:
            raise CommandError(
                "not ready: "
                + ", ".join(name for name, check in report["checks"].items() if not check["ok"])
            )
