from django.core.management.base import BaseCommand, CommandError

from environments import selectors, services


class Command(BaseCommand):
    help = (
        "Run the environment checker (environments/engine/check.py) on every environment, or "
        "the ones named, and store each report for the Environments page."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("environments", nargs="*", help="environment ids (default: all)")
        parser.add_argument(
            "--seeds",
            type=int,
            default=services.CHECK_SEEDS,
            help=f"seeds a family (default {services.CHECK_SEEDS})",
        )

    def handle(self, *args, environments: list[str], seeds: int, **options):
        env_ids = environments or [env.id for env in selectors.environment_list()]
        failed = []
        for env_id in env_ids:
            try:
                report = services.environment_check(env_id=env_id, seeds=seeds)
            except services.ServiceError as error:
                raise CommandError(error.message) from error
            self.stdout.write(f"{report.env_id}: {seeds} seeds a family")
            self.stdout.write(report.text + "\n")
            if not report.passed:
                failed.append(report.env_id)
        if failed:
            raise CommandError(f"FAILED: {', '.join(failed)} (see the FAIL lines above)")
        self.stdout.write("PASSED")
