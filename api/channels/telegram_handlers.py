"""Telegram handlers: what the bot says and which buttons it shows. Every answer comes from ``converse``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from api.conversation import ChatReply
from api.deps import AppContext, limit_user
from api.store import UnknownAnswer
from nlu.aspects import Aspect
from nlu.pii import mask_pii

log = logging.getLogger("api.telegram")

CHANNEL = "telegram"
APP_KEY = "app"  # bot_data: the AppContext the handlers answer with
UNDELIVERED_KEY = "undelivered"  # bot_data: ids of updates whose reply Telegram never got (webhook mode)
MESSAGE_LIMIT = 4096  # characters per Telegram message
CALLBACK_LIMIT = 64  # bytes of callback data per button
LABEL_LIMIT = 60

WELCOME = (
    "Xin chào! Tôi là trợ lý thủ tục hành chính Hà Nội. Bạn hãy hỏi về hồ sơ, lệ phí, thời hạn, nơi nộp "
    "hoặc cách nộp trực tuyến của một thủ tục, ví dụ:\n"
    "• Đăng ký khai sinh cần giấy tờ gì?\n"
    "• Cấp lại giấy phép lái xe mất bao lâu?\n"
    "• Đăng ký tạm trú nộp ở đâu?\n"
    "Câu trả lời có dẫn nguồn Cổng Dịch vụ công quốc gia. Xin đừng gửi số CCCD hay số điện thoại."
)
ONLY_TEXT = (
    "Xin lỗi, tôi chỉ hiểu câu hỏi bằng chữ. Bạn hãy gõ câu hỏi về thủ tục cần làm, "
    "ví dụ: “Đăng ký khai sinh cần giấy tờ gì?”"
)
TOO_FAST = "Bạn đang gửi hơi nhanh. Vui lòng đợi khoảng {seconds} giây rồi hỏi tiếp nhé."
FAILED = "Xin lỗi, hệ thống đang gặp sự cố. Bạn vui lòng thử lại sau ít phút hoặc gọi tổng đài {hotline}."
THANKS = "Cảm ơn bạn đã góp ý!"
UNKNOWN_ANSWER = "Không tìm thấy câu trả lời này."

_CODE = re.compile(r"[0-9A-Za-z._-]{1,40}")
_ANSWER_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Button:
    """A pressed inline button: ``pick:<code>``, ``online:<code>`` or ``fb:<answer id>:<1|0>``."""

    action: str
    value: str
    useful: bool = False


def parse_button(data: str | None) -> Button | None:
    """The button behind callback data; None for anything this bot did not send."""
    action, _, rest = (data or "").partition(":")
    if action in ("pick", "online") and _CODE.fullmatch(rest):
        return Button(action, rest)
    answer_id, _, verdict = rest.partition(":")
    if action == "fb" and _ANSWER_ID.fullmatch(answer_id) and verdict in ("0", "1"):
        return Button(action, answer_id, verdict == "1")
    return None


def _button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data!r}")
    short = label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1].rstrip() + "…"
    return InlineKeyboardButton(short, callback_data=data)


def reply_keyboard(reply: ChatReply) -> InlineKeyboardMarkup | None:
    """One button per offered procedure; after an answer about a procedure, feedback and the online guide."""
    if reply.options:
        return InlineKeyboardMarkup(
            [[_button(f"{number}. {name}", f"pick:{code}")] for number, (code, name) in enumerate(reply.options, 1)]
        )
    procedure = reply.answer.procedure
    if procedure is None:
        return None
    rows = [[_button("Hữu ích", f"fb:{reply.answer_id}:1"), _button("Chưa hữu ích", f"fb:{reply.answer_id}:0")]]
    if reply.answer.aspect != "online":
        rows.append([_button("Hướng dẫn nộp trực tuyến", f"online:{procedure.code}")])
    return InlineKeyboardMarkup(rows)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks where possible."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text]


def _app(context: ContextTypes.DEFAULT_TYPE) -> AppContext:
    return context.bot_data[APP_KEY]


async def _converse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, code: str | None = None, aspect: Aspect | None = None
) -> None:
    """Answer through ``converse`` within the user's rate limit; the keyboard goes with the last piece."""
    app = _app(context)
    chat_id = update.effective_chat.id
    verdict = await run_in_threadpool(limit_user, app, CHANNEL, str(chat_id))
    if not verdict.allowed:
        await context.bot.send_message(chat_id, TOO_FAST.format(seconds=verdict.retry_after))
        return
    reply = await run_in_threadpool(
        app.conversations.converse, CHANNEL, str(chat_id), text, procedure_code=code, aspect=aspect
    )
    app.metrics.decisions.labels(CHANNEL, reply.answer.decision).inc()
    *first, last = split_message(reply.text)
    for piece in first:
        await context.bot.send_message(chat_id, piece)
    await context.bot.send_message(chat_id, last, reply_markup=reply_keyboard(reply))


async def on_welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /help and unknown commands: what the bot answers, with example questions."""
    await update.effective_message.reply_text(WELCOME)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed question: answered through ``converse``, with buttons for the choices or the answer."""
    await _converse(update, context, update.effective_message.text)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice, files...: only typed questions are understood."""
    await update.effective_message.reply_text(ONLY_TEXT)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: a procedure picked from the choices, its online guide, or a verdict on an answer."""
    query = update.callback_query
    button = parse_button(query.data)
    if button is None:
        await query.answer()
    elif button.action == "fb":
        try:
            await run_in_threadpool(_app(context).store.add_feedback, button.value, button.useful)
        except UnknownAnswer:
            await query.answer(UNKNOWN_ANSWER)
        else:
            await query.answer(THANKS)
    else:
        await query.answer()  # stops the button's spinner while the answer is composed
        await _converse(update, context, "", button.value, "online" if button.action == "online" else None)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a failed update with its traceback (typed text masked) and apologise when Telegram is reachable."""
    message = update.effective_message if isinstance(update, Update) else None
    typed = (message.text or message.caption or "") if message else ""
    update_id = getattr(update, "update_id", None)
    log.error("telegram update %s failed (text: %s)", update_id, mask_pii(typed)[:200], exc_info=context.error)
    error = context.error
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        undelivered = context.bot_data.get(UNDELIVERED_KEY)
        if undelivered is not None and update_id is not None:
            undelivered.add(update_id)  # left unhandled in the store: replayed at the next start-up
        return
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, FAILED.format(hotline=_app(context).service.hanoi.hotline))
    except TelegramError:
        log.warning("telegram apology for update %s not delivered", update_id)


def add_handlers(application: Application) -> None:
    """The bot's handlers, the same in webhook and polling mode."""
    application.add_handler(CommandHandler(["start", "help"], on_welcome))
    application.add_handler(MessageHandler(filters.COMMAND, on_welcome))
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, on_other))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
