"""A scripted, OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It is a real HTTP server in a thread: the client under test (litellm, or any
OpenAI client) goes through its whole real path. Tests script what it answers,
one reply per request in order (or a function of the request), with latency
and faults: HTTP 429 with ``Retry-After``, 500, a reply slower than the
client's timeout, a body that is not JSON, an answer cut short.

It also answers the way real servers and models do (vLLM, llama.cpp,
Ollama, hosted APIs):

- ``style``: how the model wraps its JSON: ``fenced`` (a code fence),
  ``prose`` (chatter before and after, with braces), ``think`` (a closed
  reasoning block first), ``think-unclosed`` (reasoning with braces, never
  closed), ``trailing-commas``, ``single-quotes`` (a Python dict),
  ``bare-array`` (the list without its object), ``note`` (a note after the
  JSON with braces in it), or a function of the content;
- ``context_length``: a prompt (counted at 4 characters a token) that with
  its ``max_tokens`` does not fit gets vLLM's 400 "maximum context length";
- ``cut_at_max_tokens``: an answer longer than the request's ``max_tokens``
  (4 characters a token) is cut there, with finish_reason "length";
- ``response_formats``: the ``response_format`` types it takes; another
  gets a 400 naming it;
- :meth:`kill` stops it mid-run (open connections closed, new ones
  refused), and :func:`unused_url` is an address where nothing listens;
- :attr:`authorizations`: the Authorization header of every request.

    with ScriptedLLM() as llm:
        llm.add(Reply('{"turns": [...]}'), Reply(status=429, retry_after=1))
        ... model="openai/test", api_base=llm.url ...
        assert llm.requests[0]["messages"][0]["role"] == "system"
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

STYLES = ("plain", "fenced", "prose", "think", "think-unclosed", "trailing-commas", "single-quotes", "bare-array", "note")
#: Characters a token, for the server's own counts.
CHARS_PER_TOKEN = 4


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
    finish_reason: str = "stop"


def unused_url() -> str:
    """An API base on 127.0.0.1 where nothing listens (a server that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def styled(content: str, style: str | Callable[[str], str]) -> str:
    """``content`` (a JSON answer) as a model with that habit writes it."""
    if callable(style):
        return style(content)
    if style == "plain":
        return content
    if style == "fenced":
        return f"```json\n{content}\n```"
    if style == "prose":
        return f"Sure! Here is the answer {{as asked}}:\n\n{content}\n\nI hope this fits the scene; tell me if you want {{more}}."
    if style == "think":
        return f"<think>The user wants {{\"turns\"}} in order; keep {{names}} and the tone.</think>\n{content}"
    if style == "think-unclosed":
        return f"<think>Plan: {{turns}} alternate, {{\"role\": \"user\"}} first, keep the voice...\n{content}"
    if style == "note":
        return f"{content}\n\nNote: I kept {{{{char}}}} and {{names}} exactly as written."
    try:
        value = json.loads(content)
    except ValueError:
        return content
    if style == "trailing-commas":
        return _with_trailing_commas(value)
    if style == "single-quotes":
        return repr(value)
    if style == "bare-array":
        if isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), list):
            return json.dumps(next(iter(value.values())), ensure_ascii=False)
        return content
    raise ValueError(f"unknown style {style!r} (known: {', '.join(STYLES)})")


def _with_trailing_commas(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + "".join(f"{json.dumps(k)}: {_with_trailing_commas(v)}, " for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + "".join(f"{_with_trailing_commas(v)}, " for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class ScriptedLLM:
    def __init__(
        self,
        latency: float = 0.0,
        responder: Callable[[dict[str, Any]], Reply | str] | None = None,
        *,
        style: str | Callable[[str], str] = "plain",
        context_length: int | None = None,
        cut_at_max_tokens: bool = False,
        response_formats: tuple[str, ...] = ("json_schema", "json_object", "text"),
    ) -> None:
        #: Added to every reply's delay: a server that always takes this long.
        self.latency = latency
        self.responder = responder
        self.style = style
        self.context_length = context_length
        self.cut_at_max_tokens = cut_at_max_tokens
        self.response_formats = response_formats
        self.script: deque[Reply] = deque()
        #: Every request body received, parsed, in arrival order.
        self.requests: list[dict[str, Any]] = []
        #: Every request's headers, in the same order.
        self.headers: list[dict[str, str]] = []
        #: Every reply's status, in the same order.
        self.statuses: list[int] = []
        #: (arrival, reply sent) of every request, ``time.perf_counter()`` seconds, in arrival order.
        self.timings: list[list[float]] = []
        self._lock = threading.Lock()
        #: Most requests being answered at the same moment (to see concurrency).
        self.max_in_flight = 0
        self._in_flight = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._dead = False
        self._address: tuple[str, int] | None = None

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

    @property
    def authorizations(self) -> list[str | None]:
        """The Authorization header of every request, in order (None: none sent)."""
        return [next((v for k, v in h.items() if k.lower() == "authorization"), None) for h in self.headers]

    # -- serving ---------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base to give the client (``.../v1``)."""
        assert self._address is not None, "start the server first"
        host, port = self._address
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedLLM":
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall

            def log_message(self, *args):  # quiet
                pass

            def setup(self):
                super().setup()
                with llm._lock:
                    llm._connections.add(self.connection)

            def finish(self):
                with llm._lock:
                    llm._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):
                if llm._dead:
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                if not self.path.startswith("/v1/"):  # as vLLM and llama.cpp: the API lives under /v1
                    payload = b'{"detail": "Not Found"}'
                    with llm._lock:
                        llm.statuses.append(404)
                    self.send_response(404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                try:
                    body = json.loads(data or b"{}")
                except ValueError:
                    body = {"_unparsed": data.decode("utf-8", "replace")}
                timing = [time.perf_counter(), 0.0]
                with llm._lock:
                    llm.requests.append(body)
                    llm.headers.append(dict(self.headers))
                    llm.timings.append(timing)
                    llm._in_flight += 1
                    llm.max_in_flight = max(llm.max_in_flight, llm._in_flight)
                try:
                    reply = llm._refusal(body) or llm._next(body)
                    wait = reply.delay + llm.latency
                    if wait:
                        time.sleep(wait)
                finally:
                    with llm._lock:
                        llm._in_flight -= 1
                if llm._dead:
                    self.close_connection = True
                    return
                payload = reply.raw if reply.raw is not None else llm._completion(body, reply)
                with llm._lock:
                    llm.statuses.append(reply.status)
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
                    timing[1] = time.perf_counter()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up (a timeout test), or the server was killed

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that went away (killed, timed out) is part of the tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self._address = self._server.server_address[:2]
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def kill(self) -> None:
        """Die mid-run: open connections are closed, new ones refused. Safe to
        call from a responder (it does not wait for requests in flight)."""
        self._dead = True
        server, self._server = self._server, None
        if server is not None:
            server.socket.close()  # refuse new connections now
            threading.Thread(target=server.shutdown, daemon=True).start()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "ScriptedLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self._dead:
            return
        self.stop()

    # -- what a real server checks before answering -------------------------------
    def _refusal(self, body: dict[str, Any]) -> Reply | None:
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") not in self.response_formats:
            message = f"response_format type '{fmt.get('type')}' is not supported by this server"
            return Reply(status=400, raw=json.dumps({"object": "error", "message": message, "type": "BadRequestError", "code": 400}).encode())
        if self.context_length is not None:
            prompt = prompt_tokens(body)
            wanted = int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)
            if prompt + wanted > self.context_length:
                message = (
                    f"This model's maximum context length is {self.context_length} tokens. However, you requested "
                    f"{prompt + wanted} tokens ({prompt} in the messages, {wanted} in the completion). "
                    "Please reduce the length of the messages or completion."
                )
                return Reply(status=400, raw=json.dumps({"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}).encode())
        return None

    def _completion(self, body: dict[str, Any], reply: Reply) -> bytes:
        if reply.status != 200:
            return json.dumps({"error": {"message": f"scripted status {reply.status}", "type": "server_error"}}).encode()
        content = styled(reply.content, self.style)
        finish = reply.finish_reason
        completion = reply.completion_tokens
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if self.cut_at_max_tokens and limit and math.ceil(len(content) / CHARS_PER_TOKEN) > int(limit):
            content = content[: int(limit) * CHARS_PER_TOKEN]
            finish, completion = "length", int(limit)
        return json.dumps(
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "scripted"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": completion,
                    "total_tokens": reply.prompt_tokens + completion,
                },
            }
        ).encode()


def prompt_tokens(body: dict[str, Any]) -> int:
    """The server's count of a request's prompt: 4 characters a token."""
    text = "".join(str(m.get("content") or "") for m in body.get("messages", []))
    return math.ceil(len(text) / CHARS_PER_TOKEN)
