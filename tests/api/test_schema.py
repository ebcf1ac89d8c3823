"""The OpenAPI schema is valid and warning-free; the interactive docs load only local files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

MAIN_PATHS = [
    "/api/auth/token/",
    "/api/me/",
    "/api/clusters/",
    "/api/clusters/{id}/",
    "/api/organizations/",
    "/api/organizations/{id}/",
    "/api/organizations/{id}/submit/",
    "/api/organizations/{id}/validate/",
    "/api/organizations/{organization_pk}/opportunities/",
    "/api/organizations/{organization_pk}/opportunities/{id}/",
    "/api/memberships/",
    "/api/memberships/{id}/",
    "/api/memberships/{id}/decide/",
    "/api/memberships/{id}/lapse/",
    "/api/calls/",
    "/api/calls/{id}/",
]


def test_schema_generation_has_no_warnings_or_errors(tmp_path: Path) -> None:
    # --fail-on-warn raises on the first warning (an undocumented endpoint, an ambiguous enum, ...)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_schema_endpoint_serves_a_valid_openapi_document(anonymous: Any) -> None:
    response = anonymous.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    for path in MAIN_PATHS:
        assert path in schema["paths"], path
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") or operation.get("description"), f"{method.upper()} {path} undocumented"


def local_references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_and_reference_only_local_files(anonymous: Any, page: str) -> None:
    response = anonymous.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://|[\"']//", html), "the docs must not load anything from another host"
    if page == "/api/redoc/":
        # The Redoc bundle itself asks for a logo on its vendor's CDN; the page's policy refuses it.
        assert "Content-Security-Policy" in html
    references = local_references(html)
    assert any(ref.endswith(".js") for ref in references)
    for ref in references:
        assert ref.startswith("/static/"), ref
        assert finders.find(ref.removeprefix("/static/").split("?")[0]), f"{ref} is not a local static file"
    assert "/api/schema/" in html
    if page == "/api/docs/":
        assert '"validatorUrl": null' in html  # Swagger UI would otherwise call a validator on another host
