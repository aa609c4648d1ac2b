"""The OpenAI backend: any OpenAI-compatible HTTP endpoint (a vLLM server, an API), e.g. a
teacher model. See :mod:`mathlab.generate`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from mathlab.backend_common import (
    BackendBase,
    ChatPrompt,
    Completion,
    Prompt,
    SamplingParams,
    as_chat_prompt,
    per_prompt,
    sample_keys,
)


class OpenAIError(RuntimeError):
    """An OpenAI-compatible endpoint answered with an error (the message has URL, status, body)."""


class OpenAIBackend(BackendBase):
    """An OpenAI-compatible HTTP endpoint (a vLLM server, any API): a teacher model.

    Chat prompts go to ``{base_url}/chat/completions``; a ``(messages, prefix)`` prompt adds
    the prefix as a final assistant message with ``continue_final_message`` (a vLLM server
    extension) so the model continues it; raw strings go to ``{base_url}/completions``.
    The API key is read from the environment variable named by ``api_key_env`` (none sent
    when it is unset: local servers). Requests run ``max_workers`` at a time, each with a
    ``timeout`` and ``max_retries`` retries on connection errors, 429 and 5xx.
    With n > 1, sample j is its own request with seed ``seed + j`` (exact token counts and
    reproducible samples where the server honours seeds).
    """

    kind = "openai"
    supports_stop_regex = False
    supports_logprobs = False
    supports_tools = False
    tokenizer = None  # the server tokenizes

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        max_workers: int = 8,
        max_retries: int = 2,
        name: str | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.model, self.base_url = model, base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout, self.max_workers, self.max_retries = (
            float(timeout),
            int(max_workers),
            int(max_retries),
        )
        self.name = name or model

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.model!r}, base_url={self.base_url!r})"

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/{route}"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(body).encode()
        last_error = ""
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                last_error = f"HTTP {exc.code}: {detail}"
                if exc.code != 429 and exc.code < 500:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last_error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except json.JSONDecodeError as exc:
                last_error = f"the answer is not JSON: {exc}"
                break
            if attempt < self.max_retries:
                time.sleep(min(8.0, 0.5 * 2**attempt))
        raise OpenAIError(f"POST {url} (model {self.model!r}) failed: {last_error}")

    def _one(self, prompt: ChatPrompt | str, sampling: SamplingParams, seed: int) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": float(sampling.temperature),
            "top_p": float(sampling.top_p),
            "max_tokens": sampling.max_new_tokens,
            "n": 1,
            "seed": seed,
        }
        if sampling.min_new_tokens:
            body["min_tokens"] = sampling.min_new_tokens
        if sampling.stop:
            body["stop"] = sampling.stop
        if isinstance(prompt, str):
            reply = self._post("completions", {**body, "prompt": prompt})
            choice = reply["choices"][0]
            text = choice.get("text") or ""
        else:
            messages = list(prompt.messages)
            if prompt.prefix:
                messages.append({"role": "assistant", "content": prompt.prefix})
                body.update(continue_final_message=True, add_generation_prompt=False)
            reply = self._post("chat/completions", {**body, "messages": messages})
            choice = reply["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
        try:
            n_tokens = int(reply["usage"]["completion_tokens"])
        except (KeyError, TypeError, ValueError):
            raise OpenAIError(
                f"{self.base_url}: the answer has no usage.completion_tokens: {reply!r:.300}"
            ) from None
        reason = choice.get("finish_reason")
        stop = choice.get("stop_reason") if isinstance(choice.get("stop_reason"), str) else None
        if reason == "length":
            finish = "length"
        elif stop is not None:
            finish = "stop"
        elif "stop_reason" in choice or not sampling.stop:
            finish = "eos"  # vLLM servers say stop_reason=None for an end of turn
        else:
            finish = (
                "stop"  # the plain API says "stop" for both: ambiguous when stop strings were asked
            )
        return Completion(text, n_tokens, finish, stop)

    def _generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams, desc: str
    ) -> list[list[Completion]]:
        normalised = [as_chat_prompt(p, f"prompts[{i}]") for i, p in enumerate(prompts)]
        jobs = sample_keys(len(normalised), sampling)
        results: dict[tuple[int, int], Completion] = {}
        from mathlab.progress import progress

        with concurrent.futures.ThreadPoolExecutor(
            self.max_workers, thread_name_prefix="openai"
        ) as pool:
            futures = {
                pool.submit(self._one, normalised[i], sampling, sampling.seed + j): (i, j)
                for i, j in jobs
            }
            done = concurrent.futures.as_completed(futures)
            if len(jobs) > self.max_workers:
                done = progress(done, total=len(jobs), desc=f"{desc} ({self.model})", unit="req")
            for future in done:
                results[futures[future]] = future.result()
        return per_prompt(results, len(normalised), sampling)
