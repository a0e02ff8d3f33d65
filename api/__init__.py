"""HTTP side of the assistant (FastAPI app, channel adapters, widget, agent console).

Every channel will call :class:`knowledge.service.AnswerService`; nothing here may import the
``rasa`` server package. Built in the API-and-channels issue.
"""
