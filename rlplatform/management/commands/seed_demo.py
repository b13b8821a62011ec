from django.core.management.base import BaseCommand

from rlplatform.demo import demo_credentials_path, seed_demo_people


class Command(BaseCommand):
    help = "Create demo data (people for each role, and each app's demo content). Idempotent."

    def handle(self, *args, **options) -> None:
        created = seed_demo_people()
        if created:
            self.stdout.write("Demo sign-ins (shown once; also kept in var/demo-credentials.txt):")
            for username, password in created.items():
                self.stdout.write(f"  {username:<12} {password}")
        else:
            self.stdout.write(
                f"Demo people already exist; their sign-ins are in {demo_credentials_path()}"
            )
        from labeling.demo import seed_demo_labeling

        for name, items in seed_demo_labeling().items():
            self.stdout.write(f"Labeling campaign “{name}”: {items} items")
