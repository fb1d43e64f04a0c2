"""The brand catalog through the API: bulk upsert, listing, look-up, removal and who may read it."""

from __future__ import annotations

import httpx
import pytest

from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import PartnershipStatus, TenantKind
from tests.tenants.conftest import Party, assert_problem, make_partnership, make_party

pytestmark = pytest.mark.anyio

YOGHURT = {
    "sku": "DX-YOG-12",
    "name": "稻香 原味酸奶 12杯",
    "category": "乳制品",
    "aliases": ["原味酸奶", "yoghurt_12%"],
    "barcode": "6921234500125",
}
MILK = {"sku": "DX-MILK-24", "name": "稻香 纯牛奶 24盒", "category": "乳制品"}
RICE = {"sku": "DX-RICE-5", "name": "稻香 五常大米 5kg", "category": "粮油", "aliases": ["大米"]}


async def _put(http: httpx.AsyncClient, party: Party, products: list[dict]) -> httpx.Response:
    return await http.put("/v1/catalog/products", json=products, headers=party.auth)


async def test_upsert_counts_created_updated_unchanged(
    http: httpx.AsyncClient, db: Database
) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    first = await _put(http, brand, [YOGHURT, MILK])
    assert first.status_code == 200, first.text
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    before = (await http.get("/v1/catalog/products/DX-MILK-24", headers=brand.auth)).json()

    renamed = {**YOGHURT, "name": "稻香 原味酸奶 12杯装"}
    second = await _put(http, brand, [renamed, MILK, RICE])
    assert second.json() == {"created": 1, "updated": 1, "unchanged": 1}

    yoghurt = (await http.get("/v1/catalog/products/DX-YOG-12", headers=brand.auth)).json()
    assert yoghurt["name"] == "稻香 原味酸奶 12杯装"
    assert yoghurt["aliases"] == YOGHURT["aliases"]
    assert yoghurt["barcode"] == "6921234500125"
    assert yoghurt["updated_at"] > yoghurt["created_at"]
    milk = (await http.get("/v1/catalog/products/DX-MILK-24", headers=brand.auth)).json()
    assert milk == before
    assert milk["aliases"] == []
    assert milk["barcode"] is None

    cleared = await _put(http, brand, [{**renamed, "aliases": [], "barcode": None}])
    assert cleared.json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert (await _put(http, brand, [])).json() == {"created": 0, "updated": 0, "unchanged": 0}


async def test_ten_thousand_products_in_one_call(http: httpx.AsyncClient, db: Database) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    products = [{"sku": f"S{i:05}", "name": f"商品 {i}"} for i in range(10_000)]
    response = await _put(http, brand, products)
    assert response.json() == {"created": 10_000, "updated": 0, "unchanged": 0}
    products[9_999]["name"] = "改名"
    response = await _put(http, brand, products)
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 9_999}
    page = (await http.get("/v1/catalog/products?limit=200", headers=brand.auth)).json()
    assert len(page["items"]) == 200
    assert page["items"][0]["sku"] == "S00000"


async def test_oversize_call_is_refused(http: httpx.AsyncClient, db: Database) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    products = [{"sku": f"{i}", "name": "n"} for i in range(10_001)]
    body = assert_problem(await _put(http, brand, products), 413)
    assert "10,000" in body["detail"]
    assert body["max_items"] == 10_000
    listing = await http.get("/v1/catalog/products", headers=brand.auth)
    assert listing.json()["items"] == []


async def test_upsert_bad_input(http: httpx.AsyncClient, db: Database) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    duplicate = await _put(http, brand, [YOGHURT, MILK, {**YOGHURT, "name": "again"}])
    body = assert_problem(duplicate, 422, pointer="#/2/sku")
    assert "index 0 and 2" in body["detail"]
    assert_problem(await _put(http, brand, [YOGHURT, {"sku": "X"}]), 422, pointer="#/1/name")
    assert_problem(await _put(http, brand, [{"sku": " ", "name": "n"}]), 422, pointer="#/0/sku")
    assert_problem(
        await _put(http, brand, [{"sku": "X" * 65, "name": "n"}]), 422, pointer="#/0/sku"
    )
    assert_problem(
        await _put(http, brand, [{**MILK, "aliases": "not a list"}]), 422, pointer="#/0/aliases"
    )
    assert_problem(await _put(http, brand, [{**MILK, "colour": "red"}]), 422, pointer="#/0/colour")
    not_a_list = await http.put("/v1/catalog/products", json={"sku": "X"}, headers=brand.auth)
    assert_problem(not_a_list, 422)
    malformed = await http.put(
        "/v1/catalog/products",
        content=b"[{",
        headers={**brand.auth, "content-type": "application/json"},
    )
    assert_problem(malformed, 400)
    assert (await http.get("/v1/catalog/products", headers=brand.auth)).json()["items"] == []


async def test_listing_filters_and_pages_in_sku_order(
    http: httpx.AsyncClient, db: Database
) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    await _put(http, brand, [YOGHURT, MILK, RICE])

    async def skus(query: str) -> list[str]:
        response = await http.get(f"/v1/catalog/products{query}", headers=brand.auth)
        assert response.status_code == 200, response.text
        return [p["sku"] for p in response.json()["items"]]

    assert await skus("") == ["DX-MILK-24", "DX-RICE-5", "DX-YOG-12"]
    assert await skus("?category=乳制品") == ["DX-MILK-24", "DX-YOG-12"]
    assert await skus("?q=酸奶") == ["DX-YOG-12"]
    assert await skus("?q=dx-rice") == ["DX-RICE-5"]
    assert await skus("?q=大米") == ["DX-RICE-5"]
    assert await skus("?q=原味酸奶") == ["DX-YOG-12"]
    assert await skus("?q=12%25") == ["DX-YOG-12"]
    assert await skus("?q=_") == ["DX-YOG-12"]
    assert await skus("?q=6921234500125") == ["DX-YOG-12"]
    assert await skus("?q=牛奶&category=粮油") == []

    first = (await http.get("/v1/catalog/products?limit=2", headers=brand.auth)).json()
    assert [p["sku"] for p in first["items"]] == ["DX-MILK-24", "DX-RICE-5"]
    assert await skus(f"?limit=2&cursor={first['next_cursor']}") == ["DX-YOG-12"]
    bad_cursor = await http.get("/v1/catalog/products?cursor=nonsense", headers=brand.auth)
    assert_problem(bad_cursor, 422)


async def test_read_and_delete_one_product(http: httpx.AsyncClient, db: Database) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    other = await make_party(http, db, TenantKind.brand)
    await _put(http, brand, [YOGHURT, {"sku": "A/B 1", "name": "slash"}])
    await _put(http, other, [{**YOGHURT, "name": "其他品牌的酸奶"}])

    assert (await http.get("/v1/catalog/products/A/B 1", headers=brand.auth)).json()["name"] == (
        "slash"
    )
    theirs = (await http.get("/v1/catalog/products/DX-YOG-12", headers=other.auth)).json()
    assert theirs["name"] == "其他品牌的酸奶"

    assert_problem(await http.delete("/v1/catalog/products/NOPE", headers=brand.auth), 404)
    deleted = await http.delete("/v1/catalog/products/DX-YOG-12", headers=brand.auth)
    assert deleted.status_code == 204
    assert_problem(await http.get("/v1/catalog/products/DX-YOG-12", headers=brand.auth), 404)
    assert (await http.get("/v1/catalog/products/DX-YOG-12", headers=other.auth)).status_code == 200


async def test_host_reads_an_active_partners_catalog_only(
    http: httpx.AsyncClient, db: Database
) -> None:
    host = await make_party(http, db, TenantKind.host, scope="catalog:read")
    partner = await make_party(http, db, TenantKind.brand)
    invited = await make_party(http, db, TenantKind.brand)
    suspended = await make_party(http, db, TenantKind.brand)
    stranger = await make_party(http, db, TenantKind.brand)
    await make_partnership(db, host, partner)
    await make_partnership(db, host, invited, status=PartnershipStatus.invited)
    await make_partnership(db, host, suspended, status=PartnershipStatus.suspended)
    for brand in (partner, invited, suspended, stranger):
        await _put(http, brand, [YOGHURT])

    listing = await http.get(f"/v1/catalog/products?brand={partner.slug}", headers=host.auth)
    assert [p["sku"] for p in listing.json()["items"]] == ["DX-YOG-12"]
    one = await http.get(f"/v1/catalog/products/DX-YOG-12?brand={partner.slug}", headers=host.auth)
    assert one.json()["name"] == YOGHURT["name"]
    for brand in (invited, suspended, stranger):
        assert_problem(
            await http.get(f"/v1/catalog/products?brand={brand.slug}", headers=host.auth), 404
        )
        assert_problem(
            await http.get(f"/v1/catalog/products/DX-YOG-12?brand={brand.slug}", headers=host.auth),
            404,
        )
    assert_problem(await http.get("/v1/catalog/products?brand=no-such", headers=host.auth), 404)
    assert_problem(
        await http.get("/v1/catalog/products", headers=host.auth), 422, pointer="query:brand"
    )


async def test_brands_read_only_their_own_catalog(http: httpx.AsyncClient, db: Database) -> None:
    brand = await make_party(http, db, TenantKind.brand)
    other = await make_party(http, db, TenantKind.brand)
    await _put(http, other, [YOGHURT])
    own = await http.get(f"/v1/catalog/products?brand={brand.slug}", headers=brand.auth)
    assert own.json()["items"] == []
    assert_problem(
        await http.get(f"/v1/catalog/products?brand={other.slug}", headers=brand.auth), 404
    )
    assert_problem(
        await http.get(f"/v1/catalog/products/DX-YOG-12?brand={other.slug}", headers=brand.auth),
        404,
    )


async def test_hosts_cannot_write_a_catalog_and_scopes_are_checked(
    http: httpx.AsyncClient, db: Database
) -> None:
    host = await make_party(http, db, TenantKind.host)
    assert_problem(await _put(http, host, [YOGHURT]), 403)
    assert_problem(await http.delete("/v1/catalog/products/DX-YOG-12", headers=host.auth), 403)

    reader = await make_party(http, db, TenantKind.brand, scopes=[Scope.catalog_read])
    body = assert_problem(await _put(http, reader, [YOGHURT]), 403)
    assert body["required_scope"] == "catalog:write"
    assert (await http.get("/v1/catalog/products", headers=reader.auth)).status_code == 200
    outsider = await make_party(http, db, TenantKind.brand, scopes=[Scope.cases_read])
    assert_problem(await http.get("/v1/catalog/products", headers=outsider.auth), 403)
