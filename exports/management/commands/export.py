import time

from django.core.management.base import BaseCommand, CommandError

from environments.engine.text import BadJSON, json_parse
from exports import services
from exports.apis import ExportFiltersInput
from exports.kinds import KIND_NAMES
from exports.models import ExportFormat
from rlplatform.models import Job, Role, User


class Command(BaseCommand):
    help = (
        "Start a dataset export (a job on the exports queue, run by a worker) and show its "
        "progress until it is published."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KIND_NAMES)
        parser.add_argument("--format", choices=ExportFormat.values, default="jsonl")
        parser.add_argument(
            "--filters", default="{}", help='JSON, e.g. \'{"environments": ["bank-v1"]}\''
        )
        parser.add_argument("--user", help="who the export is by (default: the first admin)")
        parser.add_argument(
            "--no-wait", action="store_true", help="start the job and return at once"
        )

    def handle(self, *args, **options):
        try:
            filters = json_parse(options["filters"])
        except BadJSON as error:
            raise CommandError(f"--filters: {error}") from None
        # The API's rules, so that a filter means the same (and a wrong one is refused the same)
        # whichever way an export starts.
        checked = ExportFiltersInput(data=filters)
        if not checked.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(str(p) for p in messages)}"
                for name, messages in checked.errors.items()
            )
            raise CommandError(f"--filters: {problems}")
        filters = checked.validated_data
        users = User.objects.filter(is_active=True)
        user = (
            users.filter(username=options["user"]).first()
            if options["user"]
            else users.filter(role=Role.ADMIN).order_by("pk").first()
        )
        if user is None:
            raise CommandError("no such user; pass --user with an active username")
        export = services.export_start(
            kind=options["kind"], format=options["format"], filters=filters, created_by=user
        )
        self.stdout.write(f"export {export.pk} started (job {export.job_id})")
        if options["no_wait"]:
            return
        while True:
            job = Job.objects.get(pk=export.job_id)
            width = 40
            filled = width * job.percent // 100
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {job.percent:3d}% "
                f"{job.progress_done}/{job.progress_total} {job.status}",
                ending="",
            )
            self.stdout.flush()
            if job.is_finished:
                break
            time.sleep(0.5)
        self.stdout.write("")
        if job.status != "succeeded":
            raise CommandError(f"export {export.pk} {job.status}: {job.error}")
        export.refresh_from_db()
        for file in export.files:
            self.stdout.write(f"{file['name']}: {file['rows']} rows, sha256 {file['sha256']}")
        self.stdout.write(f"files under {export.storage_prefix}/ in the platform's storage")
