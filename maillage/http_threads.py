"""Django answering HTTP in a pool of threads, inside the ASGI server.

Django's own ASGI handler made a new thread for every request and crossed between the
event loop and threads three times per request (around the middleware that are
synchronous): a third of the API's Python time, for no gain, since no view of ours is
asynchronous. Here the WSGI handler runs in a thread pool, with a2wsgi's translation of
the ASGI request (environ, body reader), and a response that Django holds whole (every
page and API answer; not file or streaming responses) goes back to the loop with the
request's one hop: a2wsgi's responder crossed once more per message (start, body, end).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import Body, build_environ
from a2wsgi.wsgi_typing import Environ

Message = dict[str, Any]
Send = Callable[[Message], Any]

LENGTH_REQUIRED = b'{"detail": "Send the request body with a Content-Length header (chunked bodies are not accepted)."}'


class ThreadedWSGI:
    """An ASGI application for HTTP serving a WSGI application (Django's) from `threads` threads."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], threads: int) -> None:
        self.wsgi_app = wsgi_app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: Message, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"HTTP only, not {scope['type']!r}")
        names = {name.lower() for name, _value in scope.get("headers", [])}
        if b"transfer-encoding" in names and b"content-length" not in names:
            # The WSGI handler reads exactly Content-Length bytes of a body: a chunked body
            # would arrive empty. Browsers and HTTP libraries send a length; the nginx of
            # deploy/ adds one to what it forwards.
            await send_whole(send, 411, [(b"content-type", b"application/json")], LENGTH_REQUIRED)
            return
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, Body(loop, receive))  # type: ignore[arg-type]
        context = contextvars.copy_context()  # the request's thread sees the server's context
        respond = functools.partial(context.run, self.respond, environ, loop, send)
        messages: list[Message] = await loop.run_in_executor(self.executor, respond)
        for message in messages:
            await send(message)

    def respond(self, environ: Environ, loop: asyncio.AbstractEventLoop, send: Send) -> list[Message]:
        """Run the WSGI application (in a pool thread). A whole response comes back as the
        messages the loop sends; a streaming one is sent from here, part by part."""
        start: list[Message] = []  # the start message, once the application gives it
        started = False  # sent to the client

        def hop(message: Message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        def write(chunk: bytes) -> None:  # also WSGI's legacy write(), which Django does not use
            nonlocal started
            if not started:  # an application may call start_response as late as its first part
                started = True
                hop(start[0])
            if chunk:
                hop({"type": "http.response.body", "body": chunk, "more_body": True})

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
            if started and exc_info is not None:
                raise exc_info[1].with_traceback(exc_info[2])  # too late to send an error page instead
            start[:] = [
                {
                    "type": "http.response.start",
                    "status": int(status.split(" ", 1)[0]),
                    "headers": [
                        (name.strip().lower().encode("latin1"), value.encode("latin1")) for name, value in headers
                    ],
                }
            ]
            return write

        response = self.wsgi_app(environ, start_response)
        try:
            if getattr(response, "streaming", True) is False:  # Django's HttpResponse: its body whole
                return [*start, {"type": "http.response.body", "body": b"".join(response)}]
            for chunk in response:
                write(chunk)
            write(b"")  # the start, for a response without a body
            return [{"type": "http.response.body", "body": b""}]
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()  # Django's request_finished: database connections go back


async def send_whole(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
