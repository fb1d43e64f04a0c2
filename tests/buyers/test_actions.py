"""The buyer's actions: answer with photos, confirm, say not solved, rate — each an event that
reaches the host and the brand."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from PIL import Image

from hub.app import create_app
from hub.core.db import Database
from hub.core.settings import Settings
from tests.buyers.conftest import act, csrf_of, events_of, file_case, jpeg_with_exif


async def test_buyer_answer_with_photo_reaches_host_and_brand_without_exif(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    brand = filed.world.brands[0]
    await act(http, filed, "request-info", question="请拍照 Photo of the cup please")
    page = await http.get(filed.path)
    assert 'enctype="multipart/form-data"' in page.text
    photo = jpeg_with_exif()
    assert Image.open(io.BytesIO(photo)).getexif()  # the upload does carry EXIF
    response = await http.post(
        f"{filed.path}/answer",
        data={"csrf": csrf_of(page.text), "answer": "杯子鼓起来了 <b>bulging</b>"},
        files=[("photos", ("IMG_0001.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("?done=answer")

    case = (await http.get(f"/v1/cases/{filed.id}", headers=brand.auth)).json()
    assert case["status"] == "in_progress"
    for party in ("host", "brand"):
        events = await events_of(http, filed, party)
        answers = [e for e in events if e["type"] == "case.info_provided"]
        assert answers[-1]["data"]["answer"] == "杯子鼓起来了 <b>bulging</b>"
        assert answers[-1]["actor"]["kind"] == "buyer"
        photos = [e for e in events if e["type"] == "case.attachment_added"]
        assert photos
        assert photos[-1]["data"]["attachment"]["content_type"] == "image/jpeg"
    attachment_id = photos[-1]["data"]["attachment"]["id"]
    stored = await http.get(
        f"/v1/cases/{filed.id}/attachments/{attachment_id}/content", headers=brand.auth
    )
    assert stored.status_code == 200
    image = Image.open(io.BytesIO(stored.content))
    assert image.size == (64, 48)
    assert not image.getexif()  # GPS and camera make are gone
    assert b"PhoneMaker" not in stored.content

    shown = await http.get(filed.path)
    assert "你补充了信息" in shown.text
    assert "杯子鼓起来了 &lt;b&gt;bulging&lt;/b&gt;" in shown.text
    served = await http.get(f"{filed.path}/photos/{attachment_id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_non_images_and_oversized_photos_are_refused_with_a_message(
    settings: Settings, db: Database, http: httpx.AsyncClient
) -> None:
    filed = await file_case(http, db)
    await act(http, filed, "request-info", question="Photo please")
    small = settings.model_copy(update={"buyer_photo_max_bytes": 2048})
    app = create_app(small, database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        token = csrf_of((await client.get(filed.path)).text)
        disguised = await client.post(
            f"{filed.path}/answer",
            data={"csrf": token, "answer": "see attached"},
            files=[("photos", ("cat.jpg", b"<html><script>x()</script></html>", "image/jpeg"))],
        )
        assert disguised.status_code == 415
        assert "只能上传照片" in disguised.text
        assert "see attached" in disguised.text  # what they typed is kept
        noise = io.BytesIO()
        Image.effect_noise((400, 400), 90).save(noise, format="PNG")
        oversized = await client.post(
            f"{filed.path}/answer",
            data={"csrf": token, "answer": "big one"},
            files=[("photos", ("big.png", noise.getvalue(), "image/png"))],
        )
        assert oversized.status_code == 413
        assert "照片太大" in oversized.text
    events = await events_of(http, filed, "host")
    assert not [e for e in events if e["type"] == "case.info_provided"]


async def test_forms_without_a_valid_token_change_nothing(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    await act(http, filed, "request-info", question="Photo please")
    forged = await http.post(f"{filed.path}/answer", data={"answer": "hi", "csrf": "forged"})
    assert forged.status_code == 303
    assert "error=bad_form" in forged.headers["location"]
    other = await file_case(http, db)
    await act(http, other, "request-info", question="Photo please")
    foreign = csrf_of((await http.get(other.path)).text)  # a token for another link
    crossed = await http.post(f"{filed.path}/answer", data={"answer": "hi", "csrf": foreign})
    assert "error=bad_form" in crossed.headers["location"]
    events = await events_of(http, filed, "host")
    assert not [e for e in events if e["type"] == "case.info_provided"]


async def test_confirm_then_rate_once(http: httpx.AsyncClient, db: Database) -> None:
    filed = await file_case(http, db)
    await act(http, filed, "propose-resolution", kind="resend", note="新品明天发出")
    await act(http, filed, "accept-resolution", party="host")
    await act(http, filed, "resolve", note="已寄出 SF123")
    page = await http.get(filed.path)
    assert "品牌已寄出补发" in page.text
    assert "已处理，请确认" in page.text
    token = csrf_of(page.text)
    confirmed = await http.post(f"{filed.path}/confirm", data={"csrf": token})
    assert confirmed.status_code == 303
    assert "done=confirm" in confirmed.headers["location"]
    case = (await http.get(f"/v1/cases/{filed.id}", headers=filed.world.host.auth)).json()
    assert case["status"] == "closed"

    rated = await http.post(
        f"{filed.path}/rate", data={"csrf": token, "rating": "4", "comment": "快 fast"}
    )
    assert "done=rate" in rated.headers["location"]
    again = await http.post(f"{filed.path}/rate", data={"csrf": token, "rating": "1"})
    assert "error=not_allowed_now" in again.headers["location"]
    for party in ("host", "brand"):
        events = await events_of(http, filed, party)
        ratings = [e for e in events if e["type"] == "case.rated"]
        assert [(r["data"]["rating"], r["data"]["comment"]) for r in ratings] == [(4, "快 fast")]
        closed = [e for e in events if e["type"] == "case.closed"]
        assert closed[-1]["data"]["confirmed_by_buyer"] is True
    shown = await http.get(filed.path)
    assert "★★★★☆" in shown.text
    assert 'name="rating"' not in shown.text


async def test_not_solved_reopens_within_the_window_only(
    settings: Settings, db: Database, http: httpx.AsyncClient
) -> None:
    filed = await file_case(http, db)
    await act(http, filed, "resolve", note="refunded")
    token = csrf_of((await http.get(filed.path)).text)
    empty = await http.post(f"{filed.path}/reopen", data={"csrf": token, "reason": " "})
    assert empty.status_code == 422
    assert "请说明还有什么问题" in empty.text
    reopened = await http.post(
        f"{filed.path}/reopen", data={"csrf": token, "reason": "退款没到账 refund not received"}
    )
    assert "done=reopen" in reopened.headers["location"]
    case = (await http.get(f"/v1/cases/{filed.id}", headers=filed.world.host.auth)).json()
    assert case["status"] == "reopened"
    brand_events = await events_of(http, filed, "brand")
    reopen = [e for e in brand_events if e["type"] == "case.reopened"][-1]
    assert reopen["actor"]["kind"] == "buyer"
    assert reopen["data"]["reason"] == "退款没到账 refund not received"

    # outside the window the buyer is no longer offered "not solved", and cannot force it
    late = await file_case(http, db)
    await act(http, late, "resolve", note="done")
    closed_window = settings.model_copy(update={"buyer_reopen_window": timedelta(0)})
    app = create_app(closed_window, database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        page = await client.get(late.path)
        assert "/reopen" not in page.text
        assert "/confirm" in page.text
        refused = await client.post(
            f"{late.path}/reopen", data={"csrf": csrf_of(page.text), "reason": "still broken"}
        )
        assert "error=not_allowed_now" in refused.headers["location"]


async def test_buyer_cannot_act_out_of_turn(http: httpx.AsyncClient, db: Database) -> None:
    filed = await file_case(http, db)
    await act(http, filed, "request-info", question="Photo please")
    token = csrf_of((await http.get(filed.path)).text)
    await act(http, filed, "provide-info", party="host", answer="the host answered instead")
    page = await http.get(filed.path)  # a stale page: the form token still fits the link
    assert "/confirm" not in page.text
    assert 'name="answer"' not in page.text
    for path, data in (
        ("confirm", {}),
        ("answer", {"answer": "unasked"}),
        ("rate", {"rating": "5"}),
        ("reopen", {"reason": "x"}),
    ):
        response = await http.post(f"{filed.path}/{path}", data={"csrf": token, **data})
        assert "error=not_allowed_now" in response.headers["location"], path
    host_events = await events_of(http, filed, "host")
    by_buyer = [e["type"] for e in host_events if e["actor"]["kind"] == "buyer"]
    assert set(by_buyer) <= {"case.status_viewed"}
