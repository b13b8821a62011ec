from django.db.models import QuerySet

from exports.models import Export
from rlplatform.models import User


def export_list_for(*, user: User) -> QuerySet[Export]:
    """Admins see every export; everyone else the exports they started."""
    exports = Export.objects.select_related("job", "created_by")
    return exports if user.is_admin else exports.filter(created_by=user)
