"""DELETE /admin/users/{channel}/{user_id}: a user's request to be forgotten, carried out by staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import require_staff
from api.conversation import CHANNELS
from api.deps import Context
from api.privacy import forget_user

# Staff-only: kept out of the public API document, like the other /admin routes.
router = APIRouter(prefix="/admin", tags=["vận hành"], dependencies=[Depends(require_staff)], include_in_schema=False)

UNKNOWN_CHANNEL = "Không có kênh này. Các kênh: " + ", ".join(CHANNELS) + "."


class Forgotten(BaseModel):
    channel: str
    user_id: str
    # Rows deleted per table, and "rasa_events": events deleted from Rasa's tracker store (when shared).
    deleted: dict[str, int]


@router.delete(
    "/users/{channel}/{user_id}", response_model=Forgotten, responses={404: {"description": UNKNOWN_CHANNEL}}
)
async def forget(context: Context, channel: str, user_id: Annotated[str, Path(max_length=190)]) -> Forgotten:
    """Delete everything stored of one user: session, turns, feedback, channel updates, Rasa tracker.

    ``user_id`` is the id the channel knows the user by: the Telegram chat id, the Zalo user id, the
    web widget's session id. A user with nothing stored is not an error: every count is 0.
    """
    if channel not in CHANNELS:
        raise HTTPException(404, UNKNOWN_CHANNEL)
    deleted = await run_in_threadpool(forget_user, context.store, context.tracker_store, channel, user_id)
    return Forgotten(channel=channel, user_id=user_id, deleted=deleted)
