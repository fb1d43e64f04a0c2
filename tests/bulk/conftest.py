"""Builders for the bulk tests: spreadsheets in every shape hosts send, and uploading them."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import Workbook

from hub.bulk.jobs import JobWorker
from hub.core.db import Database

HEADERS_ZH = ["订单号", "商品编码", "商品名称", "问题类型", "买家姓名", "手机号", "地址", "金额"]


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, title: str = "售后") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def order_rows(sku: str, count: int, *, start: int = 1, kind: str = "换尺码") -> list[list[Any]]:
    return [
        [
            f"DY-{n:05d}",
            sku,
            "连衣裙 M 码",
            kind,
            "张三",
            "13812345678",
            "上海市浦东新区1号",
            "199.00",
        ]
        for n in range(start, start + count)
    ]


async def upload(
    http: httpx.AsyncClient,
    auth: dict[str, str],
    content: bytes,
    *,
    name: str = "orders.csv",
    **form: Any,
) -> httpx.Response:
    data = {k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}
    return await http.post("/v1/imports", files={"file": (name, content)}, data=data, headers=auth)


async def run_jobs(db: Database, *, chunk: int = 500) -> None:
    worker = JobWorker(db, chunk=chunk)
    while await worker.run_once():
        pass
