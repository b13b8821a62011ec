from django.core.management.base import BaseCommand, CommandError

from rlplatform import services
from rlplatform.models import ApiKeyScope, User


class Command(BaseCommand):
    help = (
        "Create an API key for an admin (or, with --owner, for another person) and print it: "
        "the key is shown this once. For a machine with a shell and no browser."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="what the key is for, e.g. 'grpo run'")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=[ApiKeyScope.AGENT],
            choices=ApiKeyScope.values,
            help="default: agent (create and step episodes)",
        )
        parser.add_argument("--admin", required=True, help="the username of the admin creating it")
        parser.add_argument("--owner", help="the username the key acts for (default: the admin)")

    def handle(self, *args, name: str, scopes: list[str], admin: str, owner: str | None, **options):
        try:
            _, plaintext = services.api_key_create(
                name=name,
                scopes=scopes,
                created_by=_person(admin, "--admin"),
                owner=_person(owner, "--owner") if owner else None,
            )
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(plaintext)


def _person(username: str, option: str) -> User:
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"{option}: no active person '{username}'") from None
