"""Factories for test data. Rows that carry business rules are made through the services."""

import factory

from rlplatform import services
from rlplatform.models import ApiKey, Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    role = Role.CONTRACTOR
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


def make_api_key(*, scopes: list[str], owner: User | None = None, **fields) -> tuple[ApiKey, str]:
    admin = User.objects.filter(role=Role.ADMIN).first() or UserFactory(role=Role.ADMIN)
    return services.api_key_create(
        name=fields.pop("name", "test key"),
        scopes=scopes,
        created_by=admin,
        owner=owner or admin,
        **fields,
    )
