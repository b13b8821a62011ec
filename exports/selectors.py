from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from environments.selectors import reads_every_episode
from exports.models import Export
from labeling.selectors import campaigns_managed_by
from rlplatform.jobs import JobDescription
from rlplatform.models import ApiKey, Job, User


def export_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Export]:
    """Admins see every export; everyone else, and every API key, the exports they started."""
    exports = Export.objects.select_related("job", "created_by")
    return exports if user.is_admin and api_key is None else exports.filter(created_by=user)


@dataclass(frozen=True)
class ReadScope:
    """What a person's exports and feeds read: the labels (items, judgments) of `campaigns`
    and the episodes of the person `episodes_of`. None: no limit."""

    campaigns: list[int] | None
    episodes_of: int | None

    def filters(self, filters: dict) -> dict:
        """Export filters narrowed to the scope (the kinds read `campaigns` and `episodes_of`):
        the campaigns asked for that are in it, or all of it."""
        scoped = dict(filters)
        if self.campaigns is not None:
            asked = filters.get("campaigns")
            scoped["campaigns"] = (
                [pk for pk in asked if pk in self.campaigns] if asked else self.campaigns
            )
        if self.episodes_of is not None:
            scoped["episodes_of"] = self.episodes_of
        return scoped


def read_scope_for(*, user: User) -> ReadScope:
    """The pages' scope: the labels of the campaigns the person manages
    (`campaigns_managed_by`), the episodes they read on the pages (`reads_every_episode`). An
    export key reads as its owner on the pages, never more."""
    campaigns = None
    if not user.is_admin:
        campaigns = sorted(campaigns_managed_by(user=user).values_list("pk", flat=True))
    return ReadScope(
        campaigns=campaigns, episodes_of=None if reads_every_episode(user=user) else user.pk
    )


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
