"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

``POST /v1/chat/completions`` answers with deterministic content: a JSON object
``{"values": [...]}`` holding as many values as the request's "exactly N" asks for, each
derived from a hash of the model and messages, so the same request gets the same answer
and a different batch gets different values. ``usage`` counts about 4 characters a token.

Knobs (plain attributes, set by a test before the request):
``fail_status`` (answer with that HTTP error), ``delay`` (seconds to wait before
answering; the stop event cuts it short), ``content`` (exact content to answer with),
``fixed_values`` (always these values), ``echo_auth`` (error bodies quote the
Authorization header, to prove the client side scrubs the key), ``retry_after_ms`` (sent
with errors, so the client's retries are quick), ``omit_usage``.
``requests`` holds every request body received; ``authorizations`` the header values.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_EXACTLY = re.compile(r"exactly (\d+)")


class StubLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.fail_status: int | None = None
        self.delay = 0.0
        self.content: str | None = None
        self.fixed_values: list[Any] | None = None
        self.echo_auth = False
        self.retry_after_ms: int | None = 5
        self.omit_usage = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> StubLLM:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stub._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="llm-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- answering --------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path.rstrip("/") != "/v1/chat/completions":
            self._send(handler, 404, {"error": {"message": f"no route {handler.path}", "type": "not_found"}})
            return
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            body = json.loads(handler.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send(handler, 400, {"error": {"message": "body is not JSON", "type": "invalid_request"}})
            return
        authorization = handler.headers.get("Authorization", "")
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            number = len(self.requests)
        if self.delay and self._stopping.wait(self.delay):
            return
        if self.fail_status is not None:
            message = "stub failure"
            if self.echo_auth:
                message += f" (you sent Authorization: {authorization})"
            headers = {"retry-after-ms": str(self.retry_after_ms)} if self.retry_after_ms is not None else {}
            self._send(
                handler, self.fail_status, {"error": {"message": message, "type": "server_error"}}, headers
            )
            return
        content = self.content if self.content is not None else self._values_content(body)
        messages = body.get("messages") or []
        answer: dict[str, Any] = {
            "id": f"chatcmpl-stub-{number}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "stub"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
        }
        if not self.omit_usage:
            prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
            completion_tokens = len(content) // 4 + 1
            answer["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        self._send(handler, 200, answer)

    def _values_content(self, body: dict[str, Any]) -> str:
        if self.fixed_values is not None:
            return json.dumps({"values": self.fixed_values})
        messages = body.get("messages") or []
        asked = _EXACTLY.search(str(messages[-1].get("content", ""))) if messages else None
        count = int(asked.group(1)) if asked else 5
        digest = hashlib.sha256(
            json.dumps([body.get("model"), messages], sort_keys=True).encode()
        ).hexdigest()
        return json.dumps({"values": [f"value-{digest[:8]}-{i:03d}" for i in range(count)]})

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer
