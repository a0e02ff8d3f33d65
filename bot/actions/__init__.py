"""Custom actions (rasa-sdk) of the dialogue layer, served by the FastAPI app at /rasa/webhook."""

from bot.actions.actions import ACTION_CLASSES, answer_payload, make_actions

__all__ = ["ACTION_CLASSES", "answer_payload", "make_actions"]
