"""HTTP through the ASGI application the server runs: Django in a pool of threads (maillage/http_threads.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from rest_framework.authtoken.models import Token

from maillage.asgi import application
from maillage.http_threads import ThreadedWSGI
from tests.fixtures.people import PASSWORD, make_user

# The request runs in another thread, with its own database connection: committed data only.
pytestmark = pytest.mark.django_db(transaction=True)


def request(method: str, path: str, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    """One request as an HTTP client sends it (with the body's length)."""
    headers = list(headers or [])
    if body and not any(name == b"transfer-encoding" for name, _value in headers):
        headers.append((b"content-length", str(len(body)).encode()))
    communicator = HttpCommunicator(application, method, path, body=body, headers=headers)
    return async_to_sync(communicator.get_response)(timeout=10)


def test_api_answers_with_token_and_text_intact() -> None:
    user = make_user("nadia@atlas.test", full_name="نادية Benaïssa")
    token = Token.objects.create(user=user)

    response = request("GET", "/api/me/", headers=[(b"authorization", f"Token {token.key}".encode())])

    assert response["status"] == 200
    body = json.loads(response["body"])
    assert body["email"] == "nadia@atlas.test"
    assert body["full_name"] == "نادية Benaïssa"
    assert dict(response["headers"])[b"content-type"] == b"application/json"


def test_request_bodies_reach_django() -> None:
    make_user("owner@atlas.test")
    credentials = json.dumps({"email": "owner@atlas.test", "password": PASSWORD}).encode()

    response = request("POST", "/api/auth/token/", credentials, [(b"content-type", b"application/json")])

    assert response["status"] == 200
    assert json.loads(response["body"])["token"] == Token.objects.get(user__email="owner@atlas.test").key


def test_refusals_and_limits_hold() -> None:
    assert request("GET", "/api/me/")["status"] == 401
    huge = b'{"email": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = request("POST", "/api/auth/token/", huge, [(b"content-type", b"application/json")])
    assert response["status"] == 413
    assert request("GET", "/fr/no-such-page/")["status"] == 404


def test_chunked_bodies_are_refused_not_emptied() -> None:
    # Without a length, Django over WSGI would read an empty body: a clear 411 instead
    make_user("owner@atlas.test")
    credentials = json.dumps({"email": "owner@atlas.test", "password": PASSWORD}).encode()

    response = request(
        "POST",
        "/api/auth/token/",
        credentials,
        [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
    )

    assert response["status"] == 411
    assert "Content-Length" in json.loads(response["body"])["detail"]
    assert not Token.objects.exists()


def messages_of(app: ThreadedWSGI, method: str, path: str) -> list[dict[str, Any]]:
    """Every message of the response, as the server receives them from the application."""

    async def exchange() -> list[dict[str, Any]]:
        communicator = HttpCommunicator(app, method, path)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        messages = [await communicator.receive_output(timeout=5)]
        while messages[-1]["type"] == "http.response.start" or messages[-1].get("more_body"):
            messages.append(await communicator.receive_output(timeout=5))
        return messages

    return async_to_sync(exchange)()


class Streaming:
    """A WSGI response given in parts (as Django's streaming and file responses are)."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts
        self.closed = False

    def __iter__(self) -> Any:
        return iter(self.parts)

    def close(self) -> None:
        self.closed = True


def test_streaming_responses_are_sent_part_by_part_then_closed() -> None:
    response = Streaming([b"premier ", b"", "و الثاني".encode()])

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Streaming:
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return response

    messages = messages_of(ThreadedWSGI(wsgi_app, threads=2), "GET", "/stream")

    assert messages[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
    }
    assert [m["body"] for m in messages[1:]] == [b"premier ", "و الثاني".encode(), b""]
    assert response.closed


def test_only_http_is_served() -> None:
    app = ThreadedWSGI(lambda environ, start_response: [], threads=1)

    with pytest.raises(ValueError, match="HTTP only"):
        async_to_sync(app)({"type": "lifespan"}, None, print)


def test_applications_may_start_the_response_with_their_first_part() -> None:
    # WSGI lets a generator call start_response when it yields its first part
    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("201 Created", [("X-Part", "first")])
        yield b"one"
        yield b"two"

    messages = messages_of(ThreadedWSGI(wsgi_app, threads=1), "POST", "/late")

    assert (messages[0]["status"], messages[0]["headers"]) == (201, [(b"x-part", b"first")])
    assert b"".join(m["body"] for m in messages[1:]) == b"onetwo"
