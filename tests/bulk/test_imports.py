"""Importing spreadsheets through the API: reports, jobs, per-row results, idempotency."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from hub.app import create_app
from hub.core.db import Database
from hub.core.settings import Settings
from tests.bulk.conftest import HEADERS_ZH, csv_bytes, order_rows, run_jobs, upload, xlsx_bytes
from tests.cases.conftest import case_body, make_world

MIXED = [
    [*HEADERS_ZH, "备注"],
    ["DY-1", "SKU-A", "连衣裙", "换尺码", "张三", "13812345678", "上海市浦东新区1号", "199", "M→L"],
    ["DY-2", "SKU-B", "围巾", "改地址", "李四", "13900001111", "北京市朝阳区2号", "", ""],
    ["DY-3", "SKU-A", "连衣裙", "换尺码", "王五", "not-a-phone", "杭州", "199", ""],
    ["DY-4", "SKU-A", "连衣裙", "", "赵六", "13700002222", "广州", "199", ""],
    ["DY-1", "SKU-A", "连衣裙", "换尺码", "张三", "13812345678", "上海市浦东新区1号", "199", "M→L"],
    ["DY-5", "NOPE-9", "神秘商品", "换货", "钱七", "13600003333", "深圳", "59.9", ""],
    ["", "", "", "", "", "", "", "", ""],
    ["DY-6", "SKU-B", "围巾", "exchange", "孙八", "13500004444", "成都", "¥1,299.00", ""],
    ["DY-7", "SKU-A", '=HYPERLINK("http://x")', "换颜色", "周九", "13400005555", "南京", "9", ""],
]


async def test_dry_run_reports_every_bad_row_and_imports_nothing(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"], 1: ["SKU-B"]})
    response = await upload(http, world.host.auth, csv_bytes(MIXED), dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert report["job"] is None
    assert report["file"]["format"] == "csv"
    assert report["file"]["encoding"] == "utf-8 (with BOM)"
    assert report["columns"]["order_id"] == "订单号"
    assert report["columns"]["description"] == "备注"
    counts = report["counts"]
    assert counts == {"valid": 5, "invalid": 2, "duplicate": 1, "triage": 1}
    errors = {(e["line"], e["column"]) for e in report["errors"]}
    assert errors == {(4, "手机号"), (5, "问题类型")}
    assert report["skipped"] == [{"line": 6, "status": "duplicate", "reason": "same as row 2"}]
    warned = {w["line"]: w["reason"] for w in report["warnings"]}
    assert "NOPE-9" in warned[7]
    assert "triage" in warned[7]
    assert "kept as text" in warned[10]
    cases = (await http.get("/v1/cases", headers=world.host.auth)).json()["items"]
    assert cases == []


async def test_import_files_the_good_rows_and_reports_each_row(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"], 1: ["SKU-B"]})
    host, brand_a = world.host, world.brands[0]
    response = await upload(http, host.auth, csv_bytes(MIXED))
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["state"] == "queued"
    assert job["progress"]["total"] == 5

    await run_jobs(db, chunk=2)

    done = (await http.get(f"/v1/jobs/{job['id']}", headers=host.auth)).json()
    assert done["state"] == "succeeded"
    assert done["progress"] == {
        "done": 5, "total": 5, "percent": 100.0, "rate_per_second": None, "eta_seconds": None,
    }  # fmt: skip
    assert done["counts"] == {"created": 5, "invalid": 2, "duplicate": 1}

    text = (await http.get(done["results_url"], headers=host.auth)).content.decode("utf-8-sig")
    rows = {int(r["line"]): r for r in csv.DictReader(io.StringIO(text))}
    assert sorted(rows) == [2, 3, 4, 5, 6, 7, 9, 10]
    assert rows[2]["status"] == "created"
    assert rows[2]["brand"] == brand_a.creds.tenant.name
    assert "SKU-A" in rows[2]["routing"]
    assert rows[4]["status"] == "invalid"
    assert "手机号" in rows[4]["message"]
    assert rows[6]["status"] == "duplicate"
    assert rows[7]["status"] == "created"
    assert rows[7]["brand"] == ""
    numbers = {rows[n]["case_number"] for n in (2, 3, 7, 9, 10)}
    assert len(numbers) == 5
    assert "" not in numbers

    cases = (await http.get("/v1/cases?limit=50", headers=host.auth)).json()["items"]
    by_order = {c["order"]["order_id"]: c for c in cases}
    assert len(cases) == 5
    assert by_order["DY-1"]["status"] == "routed"
    assert by_order["DY-1"]["type"] == "size_color_change"
    assert by_order["DY-1"]["description"] == "M→L"
    assert by_order["DY-2"]["type"] == "address_change"
    assert by_order["DY-5"]["status"] == "triage"
    assert by_order["DY-6"]["order"]["amount"] == "1299.00"
    assert by_order["DY-7"]["product"]["name"] == '=HYPERLINK("http://x")'
    assert by_order["DY-1"]["buyer"]["phone"] == "138****5678"
    events = await http.get(f"/v1/cases/{by_order['DY-1']['id']}/events", headers=host.auth)
    assert [e["type"] for e in events.json()["items"]] == ["case.created", "case.routed"]
    mine = (await http.get("/v1/cases", headers=brand_a.auth)).json()["items"]
    assert {c["order"]["order_id"] for c in mine} == {"DY-1", "DY-7"}


async def test_uploading_the_same_file_again_creates_nothing(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"], 1: ["SKU-B"]})
    first = await upload(http, world.host.auth, csv_bytes(MIXED))
    await run_jobs(db)
    again = await upload(http, world.host.auth, csv_bytes(MIXED), name="orders (1).csv")
    assert again.status_code == 202
    report = again.json()
    assert report["counts"]["existing"] == 5
    assert report["counts"]["valid"] == 0
    assert report["job"]["state"] == "succeeded"  # nothing to do
    assert {s["reason"][:19] for s in report["skipped"] if s["status"] == "existing"} == {
        "imported before as "
    }
    await run_jobs(db)
    cases = (await http.get("/v1/cases?limit=50", headers=world.host.auth)).json()["items"]
    assert len(cases) == 5
    assert first.json()["job"]["id"] != report["job"]["id"]


async def test_a_row_for_an_open_case_is_linked_not_filed_again(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"]})
    filed = await http.post(
        "/v1/cases",
        json=case_body(order={"order_id": "DY-00001"}, product={"sku": "SKU-A"}),
        headers=world.host.auth,
    )
    assert filed.status_code == 201
    rows = [HEADERS_ZH, *order_rows("SKU-A", 3)]
    job = (await upload(http, world.host.auth, csv_bytes(rows))).json()["job"]
    await run_jobs(db)
    results = (await http.get(f"/v1/jobs/{job['id']}/results", headers=world.host.auth)).json()
    statuses = [(r["line"], r["status"], r["case_number"]) for r in results["items"]]
    assert statuses[0] == (2, "linked", filed.json()["number"])
    assert [s[1] for s in statuses[1:]] == ["created", "created"]


async def test_gbk_csv_from_a_chinese_tool(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"]})
    content = csv_bytes([HEADERS_ZH, *order_rows("SKU-A", 3)], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    response = await upload(http, world.host.auth, content)
    assert response.status_code == 202, response.text
    assert response.json()["file"]["encoding"] == "gbk/gb18030"
    await run_jobs(db)
    cases = (await http.get("/v1/cases", headers=world.host.auth)).json()["items"]
    assert {c["product"]["name"] for c in cases} == {"连衣裙 M 码"}
    assert {c["title"] for c in cases} == {"换尺码 · 连衣裙 M 码"}


async def test_xlsx_with_numbers_typed_as_numbers(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, skus={0: ["6901234"]})
    rows = [
        ["Order ID", "SKU", "Product", "Type", "Buyer", "Phone", "Address", "Amount", "Priority"],
        [10001, 6901234, "酸奶", "quality", "张三", 13812345678, "上海", 59.9, "紧急"],
        [10002, 6901234, "酸奶", "damaged", "李四", 13900001111, "北京", 12, "high"],
        [10003, 6901234, "酸奶", "broken?", "王五", 13700002222, "杭州", 12, ""],
    ]
    response = await upload(http, world.host.auth, xlsx_bytes(rows), name="rpa.xlsx")
    assert response.status_code == 202, response.text
    report = response.json()
    assert report["file"]["format"] == "xlsx"
    assert report["file"]["sheet"] == "售后"
    assert report["counts"]["valid"] == 2
    assert report["errors"] == [
        {"line": 4, "column": "Type", "reason": "“broken?” is not a known case type"}
    ]
    await run_jobs(db)
    cases = (await http.get("/v1/cases", headers=world.host.auth)).json()["items"]
    by_order = {c["order"]["order_id"]: c for c in cases}
    assert by_order["10001"]["order"]["amount"] == "59.90"
    assert by_order["10001"]["priority"] == "urgent"
    assert by_order["10001"]["status"] == "routed"
    assert by_order["10002"]["product"]["sku"] == "6901234"


async def test_saved_mapping_reads_a_tenants_own_headers(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"]})
    rows = [["平台单号", "商家编码", "售后诉求"], ["X-1", "SKU-A", "换货"]]
    missing = await upload(http, world.host.auth, csv_bytes(rows), dry_run=True)
    assert missing.status_code == 422
    assert missing.json()["missing"] == ["order_id", "type"]
    saved = await http.put(
        "/v1/imports/mapping",
        json={"columns": {"order_id": "平台单号", "sku": "商家编码", "type": "售后诉求"}},
        headers=world.host.auth,
    )
    assert saved.status_code == 200
    ok = await upload(http, world.host.auth, csv_bytes(rows), dry_run=True)
    assert ok.status_code == 200
    assert ok.json()["counts"]["valid"] == 1
    bad = await upload(
        http, world.host.auth, csv_bytes(rows), dry_run=True, mapping='{"sku": "无此列"}'
    )
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("invalid-mapping")


async def test_abort_imports_nothing_when_a_row_is_bad(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"]})
    response = await upload(http, world.host.auth, csv_bytes(MIXED), on_error="abort")
    assert response.status_code == 422
    assert {e["line"] for e in response.json()["errors"]} == {4, 5}
    jobs = (await http.get("/v1/jobs", headers=world.host.auth)).json()
    assert jobs == []


UNIMPORTABLE = [
    (b"%PDF-1.7 ...", "orders.pdf", 415, "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "orders.xls", 415, ".xls"),
    (b"PK\x03\x04" + b"\0" * 100, "orders.xlsx", 422, "not a valid"),
    (b"\x89PNG\r\n\x1a\n", "photo.png", 415, "PNG"),
    (b"\x00\x01\x02binary", "blob.bin", 415, "binary"),
    ("订单号,问题类型\n".encode() + b"DY-1,\x81\x30\n", "bad.csv", 422, "neither UTF-8 nor GBK"),
    (b"", "empty.csv", 422, "empty"),
    ("名字,电话\n张三,1\n".encode(), "other.csv", 422, "required columns"),
]


async def test_files_that_cannot_be_imported_say_why(http: httpx.AsyncClient, db: Database) -> None:
    world = await make_world(http, db, brands=1)
    for body, filename, expected, phrase in UNIMPORTABLE:
        response = await upload(http, world.host.auth, body, name=filename)
        assert response.status_code == expected, (filename, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert phrase in response.json()["detail"], filename
    assert (await http.get("/v1/jobs", headers=world.host.auth)).json() == []


async def test_a_file_over_the_limit_is_refused_with_413(settings: Settings, db: Database) -> None:
    app = create_app(settings.model_copy(update={"import_max_bytes": 2000}), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        world = await make_world(http, db, brands=1)
        big = csv_bytes([HEADERS_ZH, *order_rows("SKU", 100)])
        response = await upload(http, world.host.auth, big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_only_hosts_import_and_jobs_are_their_own(
    http: httpx.AsyncClient, db: Database
) -> None:
    world = await make_world(http, db, skus={0: ["SKU-A"]})
    other = await make_world(http, db, brands=1)
    refused = await upload(http, world.brands[0].auth, csv_bytes(MIXED))
    assert refused.status_code == 403
    job = (await upload(http, world.host.auth, csv_bytes(MIXED))).json()["job"]
    for path in ("", "/results", "/results.csv"):
        foreign = await http.get(f"/v1/jobs/{job['id']}{path}", headers=other.host.auth)
        assert foreign.status_code == 404, path
