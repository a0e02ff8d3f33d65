"""POST /v1/ask: one chat turn of the web widget, the console or an API client."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import Context, IpLimited, limit_user, refuse_if_limited
from api.schemas import AskRequest, AskResponse, ErrorBody, ask_response

router = APIRouter(prefix="/v1", tags=["hỏi đáp"])


@router.post(
    "/ask",
    response_model=AskResponse,
    dependencies=[IpLimited],
    # 400: a body that is not UTF-8 JSON (FastAPI rejects it before validation).
    responses={400: {"model": ErrorBody}, 413: {"model": ErrorBody}, 429: {"model": ErrorBody}},
)
async def ask(body: AskRequest, context: Context) -> AskResponse:
    """Answer a question (or a candidate/aspect button) within the client's session."""
    refuse_if_limited(limit_user(context, body.channel, body.session_id))
    reply = await run_in_threadpool(
        context.conversations.converse,
        body.channel,
        body.session_id,
        body.question,
        procedure_code=body.procedure_code,
        aspect=body.aspect,
    )
    context.metrics.decisions.labels(body.channel, reply.answer.decision).inc()
    return ask_response(context.service, reply.answer_id, body.session_id, reply.answer)
