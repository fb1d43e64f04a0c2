"""The buyer service's rules, with time passed in: view coalescing, expiry, limits, photos."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlmodel import col

from hub.buyers import service, timeline
from hub.buyers.i18n import Translator
from hub.buyers.photos import PhotoRefused, clean
from hub.buyers.ratelimit import RateLimiter
from hub.buyers.tokens import factor_matches
from hub.buyers.viewlog import ViewLog
from hub.cases.models import ActorKind, Case, CaseEvent, Status, Visibility
from hub.core.db import Database
from hub.core.events import EventType
from hub.core.settings import Settings
from tests.buyers.conftest import file_case, jpeg_with_exif

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_views_coalesce_per_interval_across_processes(
    http: httpx.AsyncClient, db: Database
) -> None:
    filed = await file_case(http, db)
    case_id = uuid.UUID(filed.id)
    interval = timedelta(minutes=10)
    logged = []
    for minutes in (0, 3, 9, 10, 11, 25):
        async with db.unit_of_work() as session:
            logged.append(
                await service.log_view(
                    session,
                    case_id,
                    views=1,
                    now=T0 + timedelta(minutes=minutes),
                    interval=interval,
                )
            )
    assert logged == [True, False, False, True, False, True]
    async with db.unit_of_work() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(
                col(CaseEvent.case_id) == case_id,
                col(CaseEvent.type) == EventType.case_status_viewed,
            )
        )
    assert count == 3


async def test_view_log_counts_views_and_writes_due_links_in_one_batch(
    http: httpx.AsyncClient, db: Database
) -> None:
    first, second = await file_case(http, db), await file_case(http, db)
    views = ViewLog(timedelta(minutes=10))
    for minutes in (0, 1, 2):
        views.saw(uuid.UUID(first.id), T0 + timedelta(minutes=minutes))
    views.saw(uuid.UUID(second.id), T0)
    assert views.pending == 2
    assert await views.flush(db, now=T0 + timedelta(minutes=2)) == 2
    views.saw(uuid.UUID(first.id), T0 + timedelta(minutes=5))  # within the interval: not due
    assert views.pending == 0
    assert await views.flush(db, now=T0 + timedelta(minutes=5)) == 0
    views.saw(uuid.UUID(first.id), T0 + timedelta(minutes=12))
    assert await views.flush(db, now=T0 + timedelta(minutes=12)) == 1
    async with db.unit_of_work() as session:
        rows = (
            await session.execute(
                select(CaseEvent.data).where(
                    col(CaseEvent.case_id) == uuid.UUID(first.id),
                    col(CaseEvent.type) == EventType.case_status_viewed,
                )
            )
        ).scalars()
        assert [r["views"] for r in rows] == [3, 2]


async def test_link_expires_a_configured_time_after_closure(
    http: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    filed = await file_case(http, db)
    async with db.unit_of_work() as session:
        case = await session.get(Case, uuid.UUID(filed.id))
        assert case is not None
        token = case.status_token
        assert service.is_live(case, settings, T0)
        case.status, case.closed_at = Status.closed, T0
    ttl = settings.buyer_link_ttl_after_close
    async with db.unit_of_work(write=False) as session:
        alive = await service.find_link(session, token, settings=settings, now=T0 + ttl / 2)
        dead = await service.find_link(session, token, settings=settings, now=T0 + ttl)
    assert alive is not None
    assert dead is None


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, burst=2, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.hit("a") == pytest.approx(1.0)
    assert limiter.hit("b") == 0.0  # keys are independent
    now[0] = 1.0
    assert limiter.hit("a") == 0.0


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(60, max_keys=100)
    for n in range(1000):
        limiter.hit(f"ip-{n}")
    assert len(limiter) == 100


def test_second_factor_takes_phone_or_order_tail() -> None:
    assert factor_matches("5678", phone="138-1234-5678", order_id="DY-1001")
    assert factor_matches("1001", phone=None, order_id="DY-1001")
    assert factor_matches("ab12", phone=None, order_id="ORDER-AB12")
    assert not factor_matches("1234", phone="13812345678", order_id="DY-1001")
    assert not factor_matches("", phone=None, order_id=None)


def test_photos_are_re_encoded_without_metadata() -> None:
    cleaned = clean(jpeg_with_exif((3000, 10)), max_bytes=5_000_000)
    image = Image.open(io.BytesIO(cleaned.data))
    assert cleaned.content_type == "image/jpeg"
    assert not image.getexif()
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF")
    assert clean(gif.getvalue(), max_bytes=10_000).content_type == "image/png"
    with pytest.raises(PhotoRefused, match="not_image"):
        clean(b"%PDF-1.7 not a photo", max_bytes=10_000)
    with pytest.raises(PhotoRefused, match="not_image"):
        clean(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, max_bytes=10_000)  # a header and no image
    with pytest.raises(PhotoRefused, match="too_large"):
        clean(jpeg_with_exif(), max_bytes=100)


def test_timeline_refuses_anything_but_public_events() -> None:
    case = Case(
        tenant_id=uuid.uuid4(), number="X-1", type="quality", title="t", status_token="x" * 32
    )
    internal = CaseEvent(
        case_id=case.id,
        host_id=case.tenant_id,
        type=EventType.case_comment_added,
        visibility=Visibility.partners,
        actor_kind=ActorKind.user,
        data={"comment": {"body": "partners only"}},
    )
    with pytest.raises(ValueError, match="public"):
        timeline.describe(internal, case, Translator("zh-CN"), timeline.Names())


def test_staff_names_only_where_the_tenant_allows() -> None:
    host_id, brand_id = uuid.uuid4(), uuid.uuid4()
    case = Case(
        tenant_id=host_id,
        brand_id=brand_id,
        number="X-1",
        type="quality",
        title="t",
        status_token="x" * 32,
    )
    reply = CaseEvent(
        case_id=case.id,
        host_id=host_id,
        brand_id=brand_id,
        author_tenant_id=brand_id,
        type=EventType.case_comment_added,
        visibility=Visibility.public,
        actor_kind=ActorKind.user,
        actor_name="王小明",
        data={"comment": {"body": "hi"}},
        created_at=T0,
    )
    t = Translator("zh-CN")
    assert timeline.describe(reply, case, t, timeline.Names()).text == "品牌回复了你"
    named = timeline.describe(reply, case, t, timeline.Names(brand=True))
    assert named.text == "王小明回复了你"
    assert timeline.describe(reply, case, t, timeline.Names(host=True)).text == "品牌回复了你"
