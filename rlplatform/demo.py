"""Demo data for a new installation: one person for each role, so a newcomer can sign in at
once. Idempotent: existing people are left as they are."""

import secrets

from django.conf import settings
from django.db import transaction

from rlplatform.models import Role, User
from rlplatform.services import user_create

DEMO_PEOPLE = [
    ("admin", Role.ADMIN, "Ada Admin"),
    ("manager", Role.MANAGER, "Max Manager"),
    ("reviewer", Role.REVIEWER, "Rui Reviewer"),
    ("contractor1", Role.CONTRACTOR, "Cora Contractor"),
    ("contractor2", Role.CONTRACTOR, "Cal Contractor"),
]


def demo_credentials_path():
    return settings.VAR_DIR / "demo-credentials.txt"


@transaction.atomic
def seed_demo_people() -> dict[str, str]:
    """Create the demo people who do not exist yet; return {username: password} of those
    created. The passwords are also kept in var/demo-credentials.txt (readable by the owner
    only), since they are stored nowhere else in plain text."""
    created: dict[str, str] = {}
    for username, role, display_name in DEMO_PEOPLE:
        if User.objects.filter(username=username).exists():
            continue
        password = f"{username}-{secrets.token_urlsafe(9)}"
        user_create(username=username, password=password, role=role, display_name=display_name)
        created[username] = password
    if created:
        path = demo_credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as file:
            for username, password in created.items():
                file.write(f"{username}\t{password}\n")
        path.chmod(0o600)
    return created
