"""``python -m api serve``: the API, the widget demo page and the hotline console on one port;
``telegram-webhook`` registers the Telegram webhook, ``telegram-poll`` runs the bot by polling (local trials);
``forget CHANNEL USER_ID`` deletes everything stored of one user."""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys

from pydantic import SecretStr

from api.logs import configure_logging
from api.settings import get_api_settings
from knowledge.settings import get_settings as knowledge_settings


def _machine_token(name: str) -> str:
    """A login made once for this machine (kept in the data directory, readable by its owner only)."""
    path = knowledge_settings().data_dir / f"{name}-token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.logs import uvicorn_log_config

    settings = get_api_settings()
    # Without a configured login, the console and the dashboard get one made for this machine.
    generated = {}
    if not settings.console_enabled:
        generated["console"] = _machine_token("console")
    if not settings.staff_enabled:
        generated["staff"] = _machine_token("staff")
    settings = settings.model_copy(update={f"{name}_token": SecretStr(token) for name, token in generated.items()})
    host, port = args.host or settings.host, args.port or settings.port
    base = f"http://{host}:{port}"
    print(f"Widget demo:        {base}/widget/demo", file=sys.stderr)
    print(f"API docs:           {base}/docs", file=sys.stderr)
    console_query = f"?token={generated['console']}" if "console" in generated else ""
    staff_query = f"?token={generated['staff']}" if "staff" in generated else ""
    print(f"Hotline console:    {base}/console{console_query}", file=sys.stderr)
    print(f"Staff dashboard:    {base}/staff{staff_query}", file=sys.stderr)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=args.log_level,
        log_config=uvicorn_log_config(settings.log_format),
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def telegram_webhook(_args: argparse.Namespace) -> int:
    """Register this service's webhook with Telegram (once per deployment or change of address)."""
    import asyncio

    from telegram.error import TelegramError

    from api.channels.telegram_bot import TelegramNotConfigured, register_webhook

    try:
        url = asyncio.run(register_webhook(get_api_settings()))
    except (TelegramNotConfigured, TelegramError) as error:
        print(f"Webhook not registered: {error}", file=sys.stderr)
        return 2
    print(f"Telegram webhook:   {url}", file=sys.stderr)
    return 0


def telegram_poll(_args: argparse.Namespace) -> int:
    """Answer Telegram by long polling: local trials without a public address (removes the webhook)."""
    from api.app import build_context
    from api.channels.telegram_bot import TelegramNotConfigured, run_polling

    try:
        run_polling(get_api_settings(), build_context)
    except TelegramNotConfigured as error:
        print(f"Telegram not configured: {error}", file=sys.stderr)
        return 2
    return 0


def forget(args: argparse.Namespace) -> int:
    """Delete everything stored of one user (a request to be forgotten), as DELETE /admin/users/... does."""
    from api.conversation import CHANNELS
    from api.privacy import forget_user, user_data
    from api.rasa_tracker import open_tracker_store
    from api.store import ConversationStore

    if args.channel not in CHANNELS:
        print(f"Unknown channel {args.channel!r}: one of {', '.join(CHANNELS)}", file=sys.stderr)
        return 2
    settings = get_api_settings()
    store = ConversationStore(settings.resolved_database_url)
    tracker_store = open_tracker_store(settings.rasa_tracker_store_url)
    try:
        if args.dry_run:
            print(json.dumps(user_data(store, tracker_store, args.channel, args.user_id)))
        else:
            print(json.dumps(forget_user(store, tracker_store, args.channel, args.user_id)))
    finally:
        store.close()
        if tracker_store is not None:
            tracker_store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the API, widget and console")
    serve_parser.add_argument("--host", default=None)
    serve_parser.add_argument("--port", type=int, default=None)
    serve_parser.add_argument("--log-level", default="info")
    serve_parser.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="addresses of the load balancers whose X-Forwarded-For is trusted (default: $FORWARDED_ALLOW_IPS, "
        "else 127.0.0.1): per-address rate limits then count the client, not the balancer",
    )
    serve_parser.set_defaults(handler=serve)
    webhook_parser = commands.add_parser("telegram-webhook", help="register the Telegram webhook (setWebhook)")
    webhook_parser.set_defaults(handler=telegram_webhook)
    poll_parser = commands.add_parser("telegram-poll", help="answer Telegram by polling (local trials)")
    poll_parser.set_defaults(handler=telegram_poll)
    forget_parser = commands.add_parser("forget", help="delete everything stored of one user (channel + user id)")
    forget_parser.add_argument("channel", help="web, console, api, telegram or zalo")
    forget_parser.add_argument("user_id", help="the Telegram chat id, the Zalo user id, the widget's session id")
    forget_parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    forget_parser.set_defaults(handler=forget)
    args = parser.parse_args(argv)
    configure_logging(logging.INFO, get_api_settings().log_format)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
