"""POST /rasa/webhook: the Rasa action server, in-process, so actions share the loaded answer service.

Rasa's ``action_endpoint`` points here (bot/endpoints.yml). The protocol is rasa-sdk's: the same
bodies and status codes as its own Sanic server (400 rejected, 404 unknown action).
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from api.deps import AppContext, Context
from bot.actions import make_actions

router = APIRouter(prefix="/rasa", tags=["hội thoại"], include_in_schema=False)

# Actions get threads of their own: a chat turn holds a thread of the app's pool while it waits for
# Rasa, and Rasa's call back to this webhook must not wait for one of those (a deadlock under load).
ACTION_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rasa-action")


def executor_for(context: AppContext) -> ActionExecutor:
    """One executor per app, built on first use with the app's answer service."""
    executor = context.rasa_executor
    if executor is None:
        executor = ActionExecutor()
        for action in make_actions(context.service):
            executor.register_action(action)
        context.rasa_executor = executor
    return executor


@router.post("/webhook")
async def webhook(request: Request, context: Context) -> JSONResponse:
    """Run the custom action Rasa asks for and return its events and messages."""
    expected = context.settings.rasa_action_token
    if expected and not secrets.compare_digest(request.query_params.get("token", ""), expected.get_secret_value()):
        return JSONResponse({"error": "Invalid token"}, status_code=401)
    try:
        action_call = await request.json()
    except ValueError:
        action_call = None
    if not isinstance(action_call, dict):
        return JSONResponse({"error": "Invalid body request"}, status_code=400)
    try:
        # actions call the (blocking) answer service: run them off the event loop
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(ACTION_THREADS, asyncio.run, executor_for(context).run(action_call))
    except ActionExecutionRejection as error:
        return JSONResponse({"error": error.message, "action_name": error.action_name}, status_code=400)
    except ActionNotFoundException as error:
        return JSONResponse({"error": error.message, "action_name": error.action_name}, status_code=404)
    except ActionMissingDomainException as error:
        return JSONResponse({"error": error.message, "action_name": error.action_name}, status_code=449)
    return JSONResponse(result.model_dump() if result else None)
