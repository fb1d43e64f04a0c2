"""Exports: the reader's own columns, Excel-safe CSV, XLSX, and a round trip through the import."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from hub.bulk.mapping import Resolver, convert, fold, resolve
from hub.bulk.parsing import read_sheet
from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import TenantKind
from tests.cases.conftest import case_body, make_party, make_world

TITLES = ["酸奶胀包", '=HYPERLINK("http://evil","点我")', "@SUM(1+1) 尺码不对", "+86 电话打不通"]


async def _world_with_cases(http: httpx.AsyncClient, db: Database):  # type: ignore[no-untyped-def]
    world = await make_world(http, db, brands=2, skus={0: ["SKU-A"], 1: ["SKU-B"]})
    for i, title in enumerate(TITLES):
        sku = "SKU-A" if i % 2 == 0 else "NOPE"
        body = case_body(
            title=title,
            order={"order_id": f"DY-{i}", "amount": "59.90", "platform": "douyin"},
            product={"sku": sku, "name": "稻香 酸奶 12杯"},
            type="size_color_change",
            tags=["直播", "加急"],
        )
        assert (await http.post("/v1/cases", json=body, headers=world.host.auth)).status_code == 201
    return world


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_host_export_is_excel_safe_and_masks_contacts(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await _world_with_cases(http, db)
    rows = _csv(await http.get("/v1/cases/export.csv", headers=world.host.auth))
    assert len(rows) == len(TITLES)
    by_order = {r["订单号"]: r for r in rows}
    assert by_order["DY-0"]["标题"] == "酸奶胀包"
    assert by_order["DY-1"]["标题"] == '\'=HYPERLINK("http://evil","点我")'
    assert by_order["DY-2"]["标题"].startswith("'@")
    assert by_order["DY-3"]["标题"].startswith("'+86")
    assert by_order["DY-0"]["手机号"] == "138****5678"
    assert by_order["DY-0"]["品牌"] == world.brands[0].creds.tenant.name
    assert by_order["DY-1"]["品牌"] == ""
    assert by_order["DY-0"]["标签"] == "直播, 加急"
    assert "处理人" not in rows[0]  # the brand's agents are the brand's business
    assert [r["订单号"] for r in rows] == ["DY-3", "DY-2", "DY-1", "DY-0"]  # newest first

    revealed = _csv(await http.get("/v1/cases/export.csv?reveal=buyer", headers=world.host.auth))
    assert {r["手机号"] for r in revealed} == {"13812345678"}

    triage = _csv(await http.get("/v1/cases/export.csv?status=triage", headers=world.host.auth))
    assert {r["订单号"] for r in triage} == {"DY-1", "DY-3"}


async def test_brand_export_shows_only_its_window(http: httpx.AsyncClient, db: Database) -> None:
    world = await _world_with_cases(http, db)
    rows = _csv(await http.get("/v1/cases/export.csv", headers=world.brands[0].auth))
    assert {r["订单号"] for r in rows} == {"DY-0", "DY-2"}
    assert set(rows[0]) >= {"主播", "品牌队列", "处理人"}
    assert "主播队列" not in rows[0]
    assert "品牌" not in rows[0]
    assert {r["手机号"] for r in rows} == {""}  # the partnership does not share contacts
    assert _csv(await http.get("/v1/cases/export.csv", headers=world.brands[1].auth)) == []
    stranger = await make_party(http, db, TenantKind.host, scopes=[Scope.cases_read])
    assert _csv(await http.get("/v1/cases/export.csv", headers=stranger.auth)) == []


async def test_export_round_trips_through_the_import(http: httpx.AsyncClient, db: Database) -> None:
    world = await _world_with_cases(http, db)
    cases = (await http.get("/v1/cases", headers=world.host.auth)).json()["items"]
    exported = await http.get("/v1/cases/export.csv", headers=world.host.auth)
    sheet = read_sheet(exported.content, max_bytes=10**7, max_rows=1000)
    assert sheet.encoding == "utf-8 (with BOM)"
    columns = resolve(sheet.headers, None, None)
    brand = world.brands[0].creds.tenant
    resolver = Resolver(brands={fold(brand.name): brand.slug}, sessions={})
    for case, (_, cells) in zip(cases, sheet.rows, strict=True):
        body = convert(cells, columns, resolver).body
        assert body is not None
        assert body["title"] == case["title"]  # the formula guard is read back off
        assert body["type"] == case["type"]
        assert body["order"]["order_id"] == case["order"]["order_id"]
        assert body["order"]["amount"] == case["order"]["amount"]
        assert body["product"] == {"sku": case["product"]["sku"], "name": case["product"]["name"]}
        assert body["tags"] == case["tags"]
        assert body["brand"] == (brand.slug if case["brand"] else None)


async def test_xlsx_export_opens_with_typed_cells(http: httpx.AsyncClient, db: Database) -> None:
    world = await _world_with_cases(http, db)
    response = await http.get(
        "/v1/cases/export.xlsx?type=size_color_change", headers=world.host.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == len(TITLES)
    record = dict(zip(header, body[-1], strict=True))
    assert record["标题"] == "酸奶胀包"
    assert record["金额"] == 59.9
    formula = dict(zip(header, body[-2], strict=True))["标题"]
    assert formula == '=HYPERLINK("http://evil","点我")'  # a string cell, never a formula
    empty = await http.get("/v1/cases/export.xlsx?sku=none", headers=world.host.auth)
    assert list(load_workbook(io.BytesIO(empty.content)).worksheets[0].values) == [header]
