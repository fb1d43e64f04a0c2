"""Builders for the campaign tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.cases.conftest import Party

FORM_TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def campaign_body(brand: Party, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "size_colour_change",
        "title": "双十一预售改尺码",
        "description": "发货前可修改尺码和颜色。",
        "brands": [brand.slug],
        "skus": ["TEE-01", "TEE-02"],
        "options": {
            "TEE-01": {"sizes": ["S", "M", "L"], "colours": ["黑", "白"]},
            "TEE-02": {"sizes": ["M", "XL"], "colours": ["灰"]},
        },
    }
    body.update(overrides)
    return body


async def create_campaign(
    http: httpx.AsyncClient, host: Party, body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post("/v1/campaigns", json=body, headers=host.auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def submit(
    http: httpx.AsyncClient, path: str, fields: dict[str, str], **headers: str
) -> httpx.Response:
    page = await http.get(path, headers=headers)
    assert page.status_code == 200, page.text
    match = FORM_TOKEN.search(page.text)
    assert match
    action = path.split("?")[0]
    data = {"csrf": match.group(1), **fields}
    key = re.search(r'name="k" value="([^"]+)"', page.text)
    if key:
        data["k"] = key.group(1)
    return await http.post(action, data=data, headers=headers)
