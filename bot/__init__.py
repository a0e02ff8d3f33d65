"""Rasa dialogue layer: domain, training data, stories, test stories and thin custom actions.

``bot.actions`` (rasa-sdk) runs in the app's environment, served by the API at /rasa/webhook;
``bot.rasa_components`` is loaded by the Rasa server only (its own Python 3.10 environment,
.venv-rasa, made by bot/setup_rasa.sh); ``bot.server`` trains and starts Rasa from the app's side.
"""
