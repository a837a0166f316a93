"""A scripted, OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It is a real HTTP server in a thread: the client under test (litellm, or any
OpenAI client) goes through its whole real path. Tests script what it answers,
one reply per request in order (or a function of the request), with latency
and faults: HTTP 429 with ``Retry-After``, 500, a reply slower than the
client's timeout, a body that is not JSON, an answer cut short.

    with ScriptedLLM() as llm:
        llm.add(Reply('{"turns": [...]}'), Reply(status=429, retry_after=1))
        ... model="openai/test", api_base=llm.url ...
        assert llm.requests[0]["messages"][0]["role"] == "system"
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    """One scripted answer."""

    content: str = ""
    status: int = 200
    #: Seconds to wait before answering (a slow server, or a timeout).
    delay: float = 0.0
    retry_after: float | None = None
    #: Send these bytes as the body instead of a chat completion.
    raw: bytes | None = None
    prompt_tokens: int = 20
    completion_tokens: int = 10
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedLLM:
    def __init__(self, latency: float = 0.0, responder: Callable[[dict[str, Any]], Reply | str] | None = None) -> None:
        #: Added to every reply's delay: a server that always takes this long.
        self.latency = latency
        self.responder = responder
        self.script: deque[Reply] = deque()
        #: Every request body received, parsed, in arrival order.
        self.requests: list[dict[str, Any]] = []
        #: Every request's headers, in the same order.
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        #: Most requests being answered at the same moment (to see concurrency).
        self.max_in_flight = 0
        self._in_flight = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------
    def add(self, *replies: Reply | str) -> None:
        for reply in replies:
            self.script.append(Reply(reply) if isinstance(reply, str) else reply)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.responder is not None:
            reply = self.responder(body)
            return Reply(reply) if isinstance(reply, str) else reply
        return Reply(status=500, raw=b'{"error": {"message": "the test script has no reply left"}}')

    # -- serving ---------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base to give the client (``.../v1``)."""
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedLLM":
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                try:
                    body = json.loads(data or b"{}")
                except ValueError:
                    body = {"_unparsed": data.decode("utf-8", "replace")}
                with llm._lock:
                    llm.requests.append(body)
                    llm.headers.append(dict(self.headers))
                    llm._in_flight += 1
                    llm.max_in_flight = max(llm.max_in_flight, llm._in_flight)
                try:
                    reply = llm._next(body)
                    wait = reply.delay + llm.latency
                    if wait:
                        time.sleep(wait)
                finally:
                    with llm._lock:
                        llm._in_flight -= 1
                payload = reply.raw if reply.raw is not None else llm._completion(body, reply)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    if reply.retry_after is not None:
                        self.send_header("Retry-After", str(reply.retry_after))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that went away (killed, timed out) is part of the tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ScriptedLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @staticmethod
    def _completion(body: dict[str, Any], reply: Reply) -> bytes:
        if reply.status != 200:
            return json.dumps({"error": {"message": f"scripted status {reply.status}", "type": "server_error"}}).encode()
        return json.dumps(
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                },
            }
        ).encode()
