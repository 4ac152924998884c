from ninja import Router, Schema
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.funding import selectors

router = Router(tags=["funding"])


class FunderOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str


@router.get("/funders", response=list[FunderOut], summary="Funders the caller may see (its own for a funder user)")
@paginate(LimitOffset)
def funder_list(request):
    return selectors.funders_visible_to(request.user).order_by("name")


@router.get("/funders/{funder_id}", response=FunderOut, summary="One funder (404 when not the caller's)")
def funder_detail(request, funder_id: int):
    return selectors.funder_for(request.user, funder_id)
