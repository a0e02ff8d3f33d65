"""GET /v1/procedures/{code}: the full procedure card (console, widget details); GET /v1/aspects: what can be asked."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path

from api.deps import Context, IpLimited
from api.schemas import CODE_PATTERN, AspectInfo, ErrorBody, ProcedureCard, aspect_infos, card_of
from knowledge.errors import ProcedureNotFound

router = APIRouter(prefix="/v1", tags=["tra cứu"])


@router.get(
    "/procedures/{code}",
    response_model=ProcedureCard,
    dependencies=[IpLimited],
    responses={404: {"model": ErrorBody}, 429: {"model": ErrorBody}},
)
def procedure(context: Context, code: str = Path(..., pattern=CODE_PATTERN)) -> ProcedureCard:
    """Every aspect of one procedure, with its online level and citation."""
    try:
        found = context.service.procedure(code)
    except ProcedureNotFound:
        raise HTTPException(404, f"Không có thủ tục mã {code}.") from None
    return card_of(context.service, found)


@router.get("/aspects", response_model=list[AspectInfo])
def aspects() -> list[AspectInfo]:
    """Every part of a procedure one can ask about, in the card's order, with its title and button."""
    return aspect_infos()
