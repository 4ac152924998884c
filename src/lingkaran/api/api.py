"""The JSON API at ``/api/v1``: OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``.

Authentication: ``Authorization: Bearer <token>`` for partner systems, or the browser session (CSRF-checked).
Errors: ``application/problem+json`` with a stable ``code`` (see ``api/errors.py``). Lists: ``limit``/``offset``
pagination (see ``api/pagination.py``).
"""

from ninja import NinjaAPI
from ninja.throttling import AnonRateThrottle, UserRateThrottle

from lingkaran import __version__
from lingkaran.api import errors
from lingkaran.api.auth import AUTH
from lingkaran.api.routers import core, funding, registry

api = NinjaAPI(
    title="Lingkaran API",
    version=__version__,
    description=(
        "Partner API of Lingkaran: registry, funders, donations, coverage. Authenticate with "
        "`Authorization: Bearer <token>`. Errors are `application/problem+json` with a stable `code`. "
        "Lists take `limit` (1–500, default 50) and `offset` and answer `{items, count, limit, offset, next}`."
    ),
    auth=AUTH,
    urls_namespace="api",
    throttle=[AnonRateThrottle("120/m"), UserRateThrottle("1200/m")],
)
errors.install(api)
api.add_router("/", core.router)
api.add_router("/", registry.router)
api.add_router("/", funding.router)
api.add_router("/", "lingkaran.api.routers.imports.router")
api.add_router("/", "lingkaran.api.routers.protection.router")
api.add_router("/", "lingkaran.api.routers.continuation.router")
