from django.db.models import QuerySet
from django.urls import reverse

from exports.models import Export
from rlplatform.jobs import JobDescription
from rlplatform.models import ApiKey, Job, User


def export_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Export]:
    """Admins see every export; everyone else, and every API key, the exports they started."""
    exports = Export.objects.select_related("job", "created_by")
    return exports if user.is_admin and api_key is None else exports.filter(created_by=user)


def export_description(job: Job) -> JobDescription:
    """What an export published, with its files to download."""
    export = Export.objects.filter(job=job).first()
    if export is None or not export.is_published:
        return JobDescription()
    rows = sum(file["rows"] for file in export.files)
    names = ", ".join(file["name"] for file in export.files)
    return JobDescription(
        summary=f"{rows:,} {export.kind} row{'' if rows == 1 else 's'} published in {names}.",
        links=[
            (f"Download {file['name']}", reverse("export_file", args=[export.pk, file["name"]]))
            for file in export.files
        ],
    )
