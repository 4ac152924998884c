from ninja import Router, Schema
from ninja.pagination import paginate

from lingkaran.api.pagination import LimitOffset
from lingkaran.registry import selectors

router = Router(tags=["registry"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None = None
    code_list: str

    @staticmethod
    def resolve_parent_code(obj):
        return obj.parent_id


@router.get("/regions", response=list[RegionOut], summary="Regions the caller may work in")
@paginate(LimitOffset)
def region_list(request, level: int | None = None, parent: str | None = None, q: str = ""):
    regions = selectors.regions_visible_to(request.user)
    if level is not None:
        regions = regions.filter(level=level)
    if parent:
        regions = regions.filter(parent_id=parent)
    if q:
        regions = regions.filter(name__icontains=q)
    return regions.order_by("code")


@router.get("/regions/{code}", response=RegionOut, summary="One region (404 outside the caller's regions)")
def region_detail(request, code: str):
    return selectors.region_for(request.user, code)
