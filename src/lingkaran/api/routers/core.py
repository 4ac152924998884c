from datetime import date, datetime

from django.db import connection
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.core import selectors, services
from lingkaran.core.access import assigned_region_codes
from lingkaran.core.errors import NotFound
from lingkaran.core.models import User

router = Router(tags=["core"])


class Health(Schema):
    status: str
    database: str


@router.get("/health", auth=None, throttle=[], response=Health, summary="Liveness and database check")
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "database": connection.vendor}


class Me(Schema):
    id: int
    username: str
    full_name: str
    role: str
    language: str
    region_codes: list[str]


@router.get("/me", response=Me, summary="The account the request acts as")
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "language": user.language,
        "region_codes": sorted(assigned_region_codes(user)),
    }


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    acts_as: str = Field(..., alias="user.username")
    created_by: str = Field(..., alias="created_by.username")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    is_active: bool


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    user_id: int
    expires_at: datetime | None = None


class TokenCreated(TokenOut):
    token: str


@router.get("/tokens", response=list[TokenOut], summary="API tokens (operators)")
@paginate(LimitOffset)
def token_list(request):
    return selectors.api_tokens_for(request.user)


@router.post("/tokens", response={201: TokenCreated}, summary="Create an API token; the plain token is returned once")
def token_create(request, payload: TokenIn):
    selectors.api_tokens_for(request.user)  # refuses non-operators before looking the account up
    user = User.objects.filter(pk=payload.user_id).first()
    if user is None:
        raise NotFound(details={"field": "user_id"})
    token, plain = services.api_token_create(
        user=user, name=payload.name, created_by=request.user, expires_at=payload.expires_at
    )
    token.token = plain  # shown once in the answer, never stored
    return 201, token


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke an API token")
def token_revoke(request, token_id: int):
    return services.api_token_revoke(token_id=token_id, revoked_by=request.user)


class AuditEventOut(Schema):
    id: int
    occurred_at: datetime
    actor: str = Field(..., alias="actor_label")
    channel: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    ip_address: str | None
    request_id: str
    details: dict


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None


@router.get("/audit-events", response=list[AuditEventOut], summary="The audit log (auditors, operators)")
@paginate(LimitOffset)
def audit_events(request, filters: Query[AuditQuery]):
    return selectors.audit_events_for(request.user, selectors.AuditFilter(**filters.dict()))
