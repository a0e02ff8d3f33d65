"""GET /v1/search: the ranking behind an answer, for the console's search-as-you-type."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import Context, client_ip, enforce
from api.schemas import Candidate, ErrorBody, SearchResponse

router = APIRouter(prefix="/v1", tags=["tra cứu"])


@router.get("/search", response_model=SearchResponse, responses={429: {"model": ErrorBody}})
async def search(
    request: Request,
    context: Context,
    q: str = Query(..., min_length=1, max_length=500, description="Câu hỏi hoặc từ khoá"),
    top_k: int = Query(10, ge=1, le=50),
) -> SearchResponse:
    """Procedures ranked for ``q`` with the decision the assistant would take."""
    enforce(context, f"search:{client_ip(request)}", context.settings.rate_limit_search_per_minute, "search")
    result = await run_in_threadpool(context.service.search, q, top_k)
    return SearchResponse(
        query=q,
        decision=result.decision,
        aspect=result.query.aspect,
        results=[Candidate(code=c.code, name=c.name, score=round(c.score, 4)) for c in result.candidates[:top_k]],
    )
