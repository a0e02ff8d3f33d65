"""POST /v1/feedback: was this answer useful? Tied to the answer id the reply carried."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from api.deps import Context, IpLimited
from api.schemas import ErrorBody, FeedbackRequest, FeedbackResponse
from api.store import UnknownAnswer

router = APIRouter(prefix="/v1", tags=["phản hồi"])


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=201,
    dependencies=[IpLimited],
    # 400: a body that is not UTF-8 JSON; 413: over max_body_bytes (the middleware).
    responses={
        400: {"model": ErrorBody},
        404: {"model": ErrorBody},
        413: {"model": ErrorBody},
        429: {"model": ErrorBody},
    },
)
async def add_feedback(body: FeedbackRequest, context: Context) -> FeedbackResponse:
    """Store the user's verdict (and comment, personal numbers masked)."""
    try:
        feedback_id = await run_in_threadpool(context.store.add_feedback, body.answer_id, body.useful, body.comment)
    except UnknownAnswer:
        raise HTTPException(404, "Không tìm thấy câu trả lời này.") from None
    return FeedbackResponse(feedback_id=feedback_id, answer_id=body.answer_id)
