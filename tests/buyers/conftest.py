"""Builders for the buyer-page tests: a filed case and its status link, forms, images."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image

from hub.core.db import Database
from tests.cases.conftest import World, case_body, make_world

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Filed:
    world: World
    case: dict[str, Any]

    @property
    def path(self) -> str:
        return "/s/" + self.case["status_url"].rsplit("/", 1)[-1]

    @property
    def id(self) -> str:
        return str(self.case["id"])


async def file_case(http: httpx.AsyncClient, db: Database, **overrides: Any) -> Filed:
    """A case filed by a host and routed to its first partner brand."""
    world = await make_world(http, db)
    brand = world.brands[0]
    body = case_body(product={"sku": f"SKU-0-{brand.slug}", "name": "稻香 酸奶 12杯"}, **overrides)
    response = await http.post("/v1/cases", json=body, headers=world.host.auth)
    assert response.status_code == 201, response.text
    return Filed(world, response.json())


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no form token on the page"
    return match.group(1)


async def act(
    http: httpx.AsyncClient, filed: Filed, action: str, party: str = "brand", **body: Any
) -> httpx.Response:
    who = filed.world.brands[0] if party == "brand" else filed.world.host
    response = await http.post(
        f"/v1/cases/{filed.id}/actions/{action}", json=body, headers=who.auth
    )
    assert response.status_code == 200, response.text
    return response


async def events_of(http: httpx.AsyncClient, filed: Filed, party: str) -> list[dict[str, Any]]:
    who = filed.world.brands[0] if party == "brand" else filed.world.host
    response = await http.get(f"/v1/cases/{filed.id}/events?limit=500", headers=who.auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def jpeg_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying EXIF: a GPS position and the camera's make."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 14.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
