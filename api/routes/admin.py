"""Staff actions: which knowledge base is serving, and load a refreshed one now."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import require_staff
from api.deps import Context

# Staff-only: kept out of the public API document, like the dashboard's routes.
router = APIRouter(prefix="/admin", tags=["vận hành"], dependencies=[Depends(require_staff)], include_in_schema=False)


class KnowledgeVersion(BaseModel):
    build_id: str
    procedures: int
    changed: bool = False
    seconds: float = 0.0
    last_error: str = ""


@router.get("/knowledge", response_model=KnowledgeVersion)
def knowledge(request: Request, context: Context) -> KnowledgeVersion:
    """The build this worker serves and the last reload error, if any."""
    reloader = request.app.state.reloader
    service = context.service
    return KnowledgeVersion(
        build_id=service.build_id, procedures=len(service.searcher.procedures), last_error=reloader.last_error
    )


@router.post("/reload", response_model=KnowledgeVersion, responses={409: {"description": "the new build failed"}})
async def reload(request: Request, context: Context) -> KnowledgeVersion:
    """Load the current build now if it is not the one serving (workers also notice by themselves)."""
    outcome = await run_in_threadpool(request.app.state.reloader.reload_if_changed, context)
    if outcome.error:
        raise HTTPException(409, f"Chưa nạp được cơ sở dữ liệu mới, vẫn dùng bản {outcome.build_id}: {outcome.error}")
    service = context.service
    return KnowledgeVersion(
        build_id=service.build_id,
        procedures=len(service.searcher.procedures),
        changed=outcome.changed,
        seconds=round(outcome.seconds, 2),
    )


class OfflineState(BaseModel):
    offline: bool
    message: str = ""


class OfflineRequest(BaseModel):
    message: str = Field("", max_length=1000, description="What every channel says while paused; empty: the default")


@router.get("/offline", response_model=OfflineState)
def offline_state(context: Context) -> OfflineState:
    """Whether the assistant is paused (shared by every worker)."""
    message = context.conversations.switch.message()
    return OfflineState(offline=bool(message), message=message)


@router.put("/offline", response_model=OfflineState)
def pause(body: OfflineRequest, context: Context) -> OfflineState:
    """Pause the assistant: every channel answers with the message; questions are still stored."""
    message = context.conversations.switch.pause(body.message)
    return OfflineState(offline=True, message=message)


@router.delete("/offline", response_model=OfflineState)
def resume(context: Context) -> OfflineState:
    """Serve again (a pause set by ASSISTANT_OFFLINE_MESSAGE lasts until that setting is removed)."""
    switch = context.conversations.switch
    switch.resume()
    message = switch.message()
    return OfflineState(offline=bool(message), message=message)
