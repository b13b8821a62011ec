import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rlplatform.settings")
application = get_wsgi_application()

from rlplatform import startup  # noqa: E402

startup.settle()
