"""Guided first-time online submission, help when stuck, handover: the texts the dialogue sends.

Every sentence comes from a procedure record or from a Hanoi fact (which is cited); where the
sources say nothing, the text says so or stays silent. The steps follow what a first-time user
does on the portal: log in, upload the documents, pay, then follow the dossier and get the result.
"""

from __future__ import annotations

import re

from knowledge.answer.compose import ReplyComposer
from knowledge.answer.formatting import clip, fee_phrase, time_phrase
from knowledge.ingest.records import Procedure
from nlu.text import fold

# The record of the procedure that gives a level-2 electronic identification account (VNeID).
VNEID_ACCOUNT_CODE = "3.000228"
MAX_UPLOADS = 8
MAX_EXEMPTIONS = 3
# Phrases by which a record itself says that a document need not be submitted or uploaded.
EXEMPTION_PHRASES = (
    "khong phai nop",
    "khong phai tai len",
    "khong can nop",
    "khong phai xuat trinh",
    "khong yeu cau nop",
    "khong phai cung cap",
)
_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ])")
NEXT_HINT = "Làm xong bước này bạn nhắn “tiếp”; nếu bị vướng, nhắn “bị kẹt”."


class OnlineGuide:
    """Texts of the guided online submission for one procedure, and of the help around it."""

    def __init__(self, composer: ReplyComposer) -> None:
        self.composer = composer
        self.hanoi = composer.hanoi

    # -- can it be done online -------------------------------------------------------------

    def can_guide(self, procedure: Procedure) -> bool:
        return self.hanoi.online_level(procedure)[0] != "offline"

    def not_online(self, procedure: Procedure) -> str:
        lines = [f"{procedure.name} (mã {procedure.code}):"]
        lines += self.composer.section(procedure, "online")
        lines.append("Bạn có thể hỏi “nộp ở đâu” hoặc “cần giấy tờ gì” để chuẩn bị nộp trực tiếp.")
        lines.append(self.composer.citation(procedure))
        return "\n".join(lines)

    def ask_account(self, procedure: Procedure) -> str:
        return (
            f"Mình hướng dẫn bạn nộp trực tuyến thủ tục “{procedure.name}” (mã {procedure.code}) từng bước.\n"
            "Để nộp trực tuyến, bạn đăng nhập bằng tài khoản định danh điện tử VNeID. "
            "Bạn đã có tài khoản VNeID mức độ 2 chưa?"
        )

    # -- the steps ---------------------------------------------------------------------------

    def account_help(self, account_procedure: Procedure | None) -> list[str]:
        """How to get a level-2 account: from the record of that procedure when it is loaded."""
        if account_procedure is None:
            return [
                "Bạn cần có tài khoản định danh điện tử mức độ 2 trước khi nộp trực tuyến. "
                "Hãy hỏi mình “cấp tài khoản định danh điện tử mức độ 2” để biết nơi làm."
            ]
        lines = [
            "Trước hết bạn cần tài khoản định danh điện tử mức độ 2. Thủ tục để có tài khoản: "
            f"“{account_procedure.name}” (mã {account_procedure.code}).",
        ]
        lines += self.composer.section(account_procedure, "where")[:2]
        lines.append(f"Chi tiết: {account_procedure.url}")
        return lines

    def login_step(self, procedure: Procedure, has_account: bool, account_procedure: Procedure | None) -> str:
        lines = [] if has_account else [*self.account_help(account_procedure), ""]
        lines.append("Bước 1 — Đăng nhập và mở đúng thủ tục:")
        for portal in self.hanoi.portals:
            where = f" ({portal.url})" if portal.url else ""
            lines.append(f"• {portal.name}{where} {self._portal_citation(portal.source)}")
        lines.append("• Đăng nhập bằng tài khoản định danh điện tử VNeID.")
        online_step = next((step for step in procedure.steps if "truc tuyen" in fold(step)), None)
        if online_step:
            lines.append(f"• Cổng ghi: “{clip(online_step.lstrip('-+ '), 260)}”")
        lines.append(f"• Trang của thủ tục này (mã {procedure.code}): {procedure.url}")
        lines.append(NEXT_HINT)
        return "\n".join(lines)

    def documents_step(self, procedure: Procedure) -> str:
        lines = ["Bước 2 — Khai thông tin và tải lên giấy tờ (bản chụp hoặc bản điện tử):"]
        uploads = procedure.required_documents
        if uploads:
            lines += [f"• {clip(item.name, 200)}" for item in uploads[:MAX_UPLOADS]]
            if len(uploads) > MAX_UPLOADS:
                lines.append(f"… và {len(uploads) - MAX_UPLOADS} giấy tờ khác (xem tại trang thủ tục).")
        else:
            lines += self.composer.section(procedure, "documents")
        exemptions = self.exemptions(procedure)
        if exemptions:
            lines.append("Không phải nộp lại trong các trường hợp Cổng ghi:")
            lines += [f"• “{clip(text, 260)}”" for text in exemptions]
        lines.append(NEXT_HINT)
        return "\n".join(lines)

    def exemptions(self, procedure: Procedure) -> list[str]:
        """The record's own sentences saying a document need not be submitted or uploaded."""
        found = [
            sentence
            for item in procedure.documents
            for sentence in _SENTENCE_END.split(item.name)
            if any(phrase in fold(sentence) for phrase in EXEMPTION_PHRASES)
        ]
        return list(dict.fromkeys(found))[:MAX_EXEMPTIONS]

    def payment_step(self, procedure: Procedure) -> str:
        lines = ["Bước 3 — Phí, lệ phí và thanh toán:"]
        online = [channel for channel in procedure.channels if channel.channel == "truc_tuyen"]
        if online:
            fee = online[0].fee
            lines.append(f"• Khi nộp trực tuyến: {fee_phrase(fee, online[0].fee_note)}.")
            # "Miễn phí" with amounts in the note is not free: the note decides (see fee_phrase)
            free = fee.kind == "free" and not any(char.isdigit() for char in online[0].fee_note or "")
        else:
            lines += [f"• {line}" for line in self.composer.section(procedure, "fee")]
            free = False
        if free:
            lines.append("• Thủ tục này không mất phí khi nộp trực tuyến, bạn không phải thanh toán.")
        else:
            payment = self.hanoi.fact("cashless_payment")
            lines.append(f"• {payment.text} {self.hanoi.citation(payment)}")
        lines.append(NEXT_HINT)
        return "\n".join(lines)

    def result_step(self, procedure: Procedure) -> str:
        lines = ["Bước 4 — Theo dõi hồ sơ và nhận kết quả:"]
        online = [channel for channel in procedure.channels if channel.channel == "truc_tuyen"]
        if online:
            lines.append(f"• Thời hạn giải quyết khi nộp trực tuyến: {time_phrase(online[0].time)}.")
        notices = self.hanoi.fact("progress_notices")
        lines.append(f"• {notices.text} {self.hanoi.citation(notices)}")
        if procedure.results:
            names = "; ".join(clip(result.name, 120) for result in procedure.results[:4])
            lines.append(f"• Kết quả bạn nhận được: {names}.")
        lines.append(f"Xong rồi! Nếu cần người hỗ trợ, bạn gọi tổng đài {self.hanoi.hotline}.")
        lines.append(self.composer.citation(procedure))
        return "\n".join(lines)

    # -- help ----------------------------------------------------------------------------------

    def stuck_help(self) -> str:
        lines = ["Nếu bạn bị vướng khi làm trực tuyến, có những nơi hỗ trợ:"]
        for fact_id in self.hanoi.first_time_support:
            fact = self.hanoi.fact(fact_id)
            lines.append(f"• {fact.text} {self.hanoi.citation(fact)}")
        return "\n".join(lines)

    def handover(self) -> str:
        hotline = self.hanoi.fact("hotline")
        channels = self.hanoi.fact("feedback_channels")
        return "\n".join(
            [
                "Mình đã ghi nhận bạn muốn gặp người hỗ trợ; cán bộ sẽ xem lại cuộc trò chuyện này.",
                f"• Để được tư vấn ngay, bạn gọi {hotline.text} {self.hanoi.citation(hotline)}",
                f"• {channels.text} {self.hanoi.citation(channels)}",
            ]
        )

    def feedback(self) -> str:
        channels = self.hanoi.fact("feedback_channels")
        return "\n".join(
            [
                "Cảm ơn bạn đã góp ý, mình ghi nhận để cải thiện câu trả lời.",
                f"Nếu bạn muốn phản ánh, kiến nghị về thủ tục hành chính: {channels.text} "
                f"{self.hanoi.citation(channels)}",
            ]
        )

    def _portal_citation(self, source: str) -> str:
        if source == "record":
            return f"(nguồn: {self.hanoi.national_source.name})"
        return f"(nguồn: {self.hanoi.sources[source].file})"
