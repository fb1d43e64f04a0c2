"""The words of the buyer pages in zh-CN (the default) and English."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
LANG_COOKIE = "casehub_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "page_title": "售后进度",
        "case_number": "案件编号",
        "status": "当前进度",
        "updated": "更新于",
        "product": "商品",
        "order": "订单",
        "contact": "联系方式",
        "timeline": "处理记录",
        "expected_reply_by": "预计回复时间",
        "nothing_to_do": "目前无需你操作，有进展会在这里更新。",
        "verify_title": "验证身份",
        "verify_help": "为保护你的信息，请输入下单手机号后 4 位或订单号后 4 位查看详情。",
        "verify_code": "后 4 位",
        "verify_submit": "查看详情",
        "err_verify_wrong": "输入不正确，请重试。",
        "err_verify_locked": "尝试次数过多，请稍后再试。",
        "answer_title": "请补充信息",
        "answer_label": "你的回复",
        "photos_label": "照片（可选，最多 {n} 张，每张不超过 {mb} MB）",
        "answer_submit": "提交",
        "done_answer": "已提交，感谢你的补充。",
        "done_new": "登记成功。请收藏本页面链接，随时查看处理进度。",
        "err_too_large": "照片太大，请换一张较小的照片。",
        "err_not_image": "只能上传照片（JPG、PNG、WebP、GIF）。",
        "err_too_many_photos": "照片太多，请减少后重试。",
        "err_empty_answer": "请填写回复或添加照片。",
        "err_no_reason": "请说明还有什么问题。",
        "err_no_rating": "请选择 1 到 5 星。",
        "confirm_title": "问题解决了吗？",
        "confirm_yes": "已解决",
        "confirm_no": "未解决",
        "reopen_label": "还有什么问题？",
        "reopen_submit": "提交，重新处理",
        "done_reopen": "已重新提交处理，我们会尽快跟进。",
        "done_confirm": "感谢确认。",
        "rate_title": "为本次处理打分",
        "rate_comment": "评价（可选）",
        "rate_submit": "提交评价",
        "done_rate": "感谢你的评价。",
        "your_rating": "你的评价",
        "not_found_title": "链接无效",
        "not_found_body": "该链接不存在或已失效。如需帮助，请联系购买渠道的客服。",
        "too_many_title": "请稍后再试",
        "too_many_body": "访问过于频繁，请稍后再试。",
        "err_bad_form": "页面已过期，请刷新后重试。",
        "err_not_allowed_now": "当前进度下无法进行此操作，页面已刷新。",
        "lang_switch": "English",
        "footer": "本页面由 CaseHub 提供，仅显示与你有关的处理进度。",
        "who_you": "你",
        "who_host": "客服",
        "who_brand": "品牌",
        "who_system": "系统",
        "campaign_submit": "提交登记",
        "campaign_closed_title": "登记已结束",
        "campaign_closed_body": "本次登记已于 {when} 截止，感谢关注。",
        "campaign_not_open_title": "登记尚未开始",
        "campaign_not_open_body": "本次登记将于 {when} 开始。",
        "campaign_duplicate": "该订单已经登记过，无需重复提交。",
        "campaign_link_invalid": "该登记链接无效或已过期，请使用收到的完整链接。",
        "campaign_link_required": "本次登记只接受专属链接，请使用收到的完整链接。",
        "required": "必填",
        "choose": "请选择",
        "yes": "是",
        "no": "否",
        "error_required": "请填写此项",
        "error_choice": "请选择列表中的选项",
        "error_number": "请输入数字",
        "error_date": "请输入日期（年-月-日）",
        "error_phone": "请输入正确的手机号",
        "error_length": "内容过长（最多 {n} 字）",
        "error_sku": "该商品不在本次登记范围内",
        "error_option": "该商品没有这个选项",
        "form_errors": "请修改标红的项目后重新提交。",
        "submission_failed": "暂时无法提交，请稍后再试或联系客服。",
        "order_locked": "本链接对应的订单",
    },
    "en": {
        "page_title": "Your after-sales request",
        "case_number": "Case number",
        "status": "Status",
        "updated": "Updated",
        "product": "Product",
        "order": "Order",
        "contact": "Contact",
        "timeline": "Progress",
        "expected_reply_by": "Expected reply by",
        "nothing_to_do": "Nothing to do for now; progress will appear here.",
        "verify_title": "Confirm it is you",
        "verify_help": (
            "To protect your details, enter the last 4 digits of the phone number or of the "
            "order number you ordered with."
        ),
        "verify_code": "Last 4",
        "verify_submit": "Show details",
        "err_verify_wrong": "That does not match. Please try again.",
        "err_verify_locked": "Too many attempts. Please try again later.",
        "answer_title": "Information requested",
        "answer_label": "Your answer",
        "photos_label": "Photos (optional, up to {n}, {mb} MB each)",
        "answer_submit": "Send",
        "done_answer": "Sent. Thank you.",
        "done_new": "Received. Bookmark this page to follow the progress at any time.",
        "err_too_large": "That photo is too large; please choose a smaller one.",
        "err_not_image": "Only photos can be uploaded (JPG, PNG, WebP, GIF).",
        "err_too_many_photos": "Too many photos; please send fewer.",
        "err_empty_answer": "Please write an answer or add a photo.",
        "err_no_reason": "Please say what is still wrong.",
        "err_no_rating": "Please choose 1 to 5 stars.",
        "confirm_title": "Is it solved?",
        "confirm_yes": "Solved",
        "confirm_no": "Not solved",
        "reopen_label": "What is still wrong?",
        "reopen_submit": "Send and reopen",
        "done_reopen": "Reopened. We will follow up soon.",
        "done_confirm": "Thank you for confirming.",
        "rate_title": "Rate how it was handled",
        "rate_comment": "Comment (optional)",
        "rate_submit": "Send rating",
        "done_rate": "Thank you for your rating.",
        "your_rating": "Your rating",
        "not_found_title": "Link not valid",
        "not_found_body": (
            "This link does not exist or has expired. For help, contact the shop you bought from."
        ),
        "too_many_title": "Please wait",
        "too_many_body": "Too many requests. Please try again in a moment.",
        "err_bad_form": "This page has expired. Please reload it and try again.",
        "err_not_allowed_now": "That is not possible at this stage; the page has been refreshed.",
        "lang_switch": "中文",
        "footer": "Provided by CaseHub. This page shows only the progress that concerns you.",
        "who_you": "You",
        "who_host": "Customer service",
        "who_brand": "The brand",
        "who_system": "System",
        "campaign_submit": "Submit",
        "campaign_closed_title": "This form is closed",
        "campaign_closed_body": "Submissions closed on {when}. Thank you.",
        "campaign_not_open_title": "Not open yet",
        "campaign_not_open_body": "Submissions open on {when}.",
        "campaign_duplicate": "This order has already been submitted.",
        "campaign_link_invalid": "This link is not valid; please use the full link you got.",
        "campaign_link_required": "This form takes personal links only; use the full link you got.",
        "required": "required",
        "choose": "Choose",
        "yes": "Yes",
        "no": "No",
        "error_required": "Please fill this in",
        "error_choice": "Please choose one of the options",
        "error_number": "Please enter a number",
        "error_date": "Please enter a date (YYYY-MM-DD)",
        "error_phone": "Please enter a valid phone number",
        "error_length": "Too long (at most {n} characters)",
        "error_sku": "This product is not part of this form",
        "error_option": "This product does not come with that option",
        "form_errors": "Please correct the fields marked in red.",
        "submission_failed": "This could not be submitted now; try again later or contact us.",
        "order_locked": "The order of this link",
    },
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "triage": "已收到，正在核实",
        "routed": "已转交品牌处理",
        "in_progress": "处理中",
        "waiting_on_host": "处理中",
        "waiting_on_buyer": "等待你补充信息",
        "resolution_proposed": "处理中，方案确认中",
        "resolved": "已处理，请确认",
        "closed": "已完成",
        "reopened": "重新处理中",
        "cancelled": "已撤销",
    },
    "en": {
        "triage": "Received, being checked",
        "routed": "Passed to the brand",
        "in_progress": "Being handled",
        "waiting_on_host": "Being handled",
        "waiting_on_buyer": "Waiting for your information",
        "resolution_proposed": "Being handled, a solution is being agreed",
        "resolved": "Resolved, please confirm",
        "closed": "Closed",
        "reopened": "Reopened, being handled again",
        "cancelled": "Cancelled",
    },
}


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's locale: ``?lang=`` first, then the remembered choice, then the browser's."""
    for choice in (query, cookie):
        if choice in LOCALES:
            return choice
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


class Translator:
    """``t("key", n=3)`` for one locale; an unknown key is a bug and raises ``KeyError``."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._messages: Mapping[str, str] = MESSAGES[self.locale]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text

    def status(self, status: str) -> str:
        return STATUS_LABELS[self.locale].get(status, status)
