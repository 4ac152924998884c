import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lingkaran.config.settings")
_site = get_wsgi_application()

# Gateway webhooks and the sandbox's status API are answered before the site's middleware (funding/wsgi.py).
from lingkaran.funding.wsgi import front_door  # noqa: E402 - after Django is set up

application = front_door(_site)
