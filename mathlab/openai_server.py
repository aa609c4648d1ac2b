"""A small OpenAI-compatible HTTP server in front of any mathlab backend (stdlib only).

Serves ``POST /v1/chat/completions`` and ``POST /v1/completions`` (and ``GET /v1/models``)
from a backend of ``mathlab.generate``, e.g. a model fine-tuned in a notebook, so another
process (the evolve notebook's teacher, ``mathlab eval --backend openai``) can use it as
an endpoint. It speaks the subset of the API that ``OpenAIBackend`` sends: ``messages``
or ``prompt``, ``n``, ``temperature``, ``top_p``, ``max_tokens``, ``min_tokens``,
``stop``, ``seed``, and vLLM's ``continue_final_message`` / ``add_generation_prompt`` to
continue a partial assistant message; choices carry vLLM's ``stop_reason``. Requests are
served one at a time (one model). For production serving use vLLM's server.

    python -m mathlab.openai_server --model smollm2-135m-instruct --port 8000
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mathlab.generate import ChatPrompt, SamplingParams

MAX_BODY_BYTES = 1 << 20


class _BadRequest(ValueError):
    pass


def _sampling(body: dict[str, Any]) -> SamplingParams:
    stop = body.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    try:
        return SamplingParams(
            n=int(body.get("n", 1)),
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)),
            max_new_tokens=int(body.get("max_tokens") or 256),
            min_new_tokens=int(body.get("min_tokens") or 0),
            stop=list(stop),
            seed=int(body.get("seed") or 0),
        )
    except (TypeError, ValueError) as exc:
        raise _BadRequest(str(exc)) from None


class _Handler(BaseHTTPRequestHandler):
    """One HTTP request to an :class:`OpenAIServer` (``self.server.app``)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(
            status,
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "code": status,
                }
            },
        )

    def _authorised(self) -> bool:
        api_key = self.server.app.api_key  # type: ignore[attr-defined]
        if api_key is None:
            return True
        return self.headers.get("Authorization") == f"Bearer {api_key}"

    def do_GET(self) -> None:  # noqa: N802
        if not self._authorised():
            return self._error(401, "missing or wrong API key")
        if self.path.rstrip("/") == "/v1/models":
            model = self.server.app.model_name  # type: ignore[attr-defined]
            return self._send(200, {"object": "list", "data": [{"id": model, "object": "model"}]})
        self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorised():
            return self._error(401, "missing or wrong API key")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return self._error(413, f"request body over {MAX_BODY_BYTES} bytes")
        app = self.server.app  # type: ignore[attr-defined]
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise _BadRequest("the body must be a JSON object")
            route = self.path.rstrip("/")
            if route == "/v1/chat/completions":
                payload = app._chat(body)
            elif route == "/v1/completions":
                payload = app._completion(body)
            else:
                return self._error(404, f"no route {self.path}")
        except (_BadRequest, json.JSONDecodeError, TypeError) as exc:
            return self._error(400, str(exc))
        self._send(200, payload)


class OpenAIServer:
    """``with OpenAIServer(backend) as server: server.base_url`` -> ``http://127.0.0.1:PORT/v1``.

    port=0 picks a free port. api_key: when set, requests must send ``Authorization: Bearer
    <api_key>``. The server runs in a daemon thread and stops on ``close()``/exit.
    """

    def __init__(
        self,
        backend,
        host: str = "127.0.0.1",
        port: int = 0,
        model_name: str | None = None,
        api_key: str | None = None,
    ):
        self.backend = backend
        self.model_name = model_name or backend.name
        self.api_key = api_key
        self._lock = threading.Lock()
        self.requests_served = 0
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.app = self  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="openai-server", daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> OpenAIServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- handlers
    def _generate(self, prompt, body: dict[str, Any]):
        sampling = _sampling(body)
        with self._lock:
            self.requests_served += 1
            return self.backend.generate([prompt], sampling)[0]

    def _usage(self, comps) -> dict[str, int]:
        out = sum(c.n_tokens for c in comps)
        return {"prompt_tokens": 0, "completion_tokens": out, "total_tokens": out}

    @staticmethod
    def _finish(c) -> tuple[str, str | None]:
        return ("length" if c.finish_reason == "length" else "stop"), c.stop

    def _reply(self, comps, id_prefix: str, obj: str, content) -> dict[str, Any]:
        """The response to one request: a choice per completion (its `content` fields, the
        finish and stop reasons), the model and the usage."""
        choices = []
        for i, c in enumerate(comps):
            reason, stop = self._finish(c)
            choices.append({"index": i, **content(c), "finish_reason": reason, "stop_reason": stop})
        return {
            "id": f"{id_prefix}-{uuid.uuid4().hex[:12]}",
            "object": obj,
            "created": int(time.time()),
            "model": self.model_name,
            "choices": choices,
            "usage": self._usage(comps),
        }

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _BadRequest("'messages' must be a non-empty list")
        prefix = ""
        if body.get("continue_final_message"):
            if messages[-1].get("role") != "assistant":
                raise _BadRequest("continue_final_message needs a final assistant message")
            prefix = str(messages[-1].get("content", ""))
            messages = messages[:-1]
        comps = self._generate(ChatPrompt(messages, prefix), body)
        return self._reply(
            comps,
            "chatcmpl",
            "chat.completion",
            lambda c: {"message": {"role": "assistant", "content": c.text}},
        )

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise _BadRequest("'prompt' must be a string")
        comps = self._generate(prompt, body)
        return self._reply(comps, "cmpl", "text_completion", lambda c: {"text": c.text})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mathlab.openai_server", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, help="a model spec (mathlab.models)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    args = parser.parse_args(argv)
    from mathlab.generate import get_backend

    server = OpenAIServer(
        get_backend(args.model), args.host, args.port, model_name=args.model, api_key=args.api_key
    )
    print(f"serving {args.model} at {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
