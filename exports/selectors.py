from django.db.models import QuerySet

from exports.models import Export
from rlplatform.models import ApiKey, User


def export_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Export]:
    """Admins see every export; everyone else, and every API key, the exports they started."""
    exports = Export.objects.select_related("job", "created_by")
    return exports if user.is_admin and api_key is None else exports.filter(created_by=user)
