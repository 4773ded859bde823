"""``synthbeam llm-check``: one tiny request to the configured endpoint, reported without the key.

The command's door lives here; what it calls (settings, client, one completion) is the same code
the ``openai_generated`` rule uses, in :mod:`synthbeam.rules.llm.client`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthbeam.rules.llm.client import LLMError, OpenAISettings, PoolRequest, complete, make_client, one_line, safe_url

__all__ = ["llm_check"]

def llm_check(openai_settings: Mapping[str, Any], config_dir: Path) -> dict[str, Any]:
    """Test the configured endpoint with one tiny request, for ``synthbeam llm-check``.

    Returns ``status`` ("disabled", "invalid", "no_key", "success" or "error"), ``ok``,
    ``message``, and where known ``model``, ``base_url``, ``response_id``,
    ``latency_seconds``, ``cache_dir`` and ``cached_pools``. Never contains the key.
    """
    settings, problems = OpenAISettings.parse(openai_settings, Path(config_dir))
    cached = sorted(settings.cache_dir.glob("*.json")) if settings.cache_dir.is_dir() else []
    report: dict[str, Any] = {
        "ok": False,
        "model": settings.model,
        "base_url": safe_url(settings.base_url),
        "api_key_env": settings.api_key_env,
        "cache_dir": str(settings.cache_dir),
        "cached_pools": len(cached),
    }
    if problems:
        return {**report, "status": "invalid", "message": "; ".join(problems)}
    if not settings.enabled:
        return {**report, "status": "disabled", "message": "openai.enabled is false in the config"}
    secret = settings.api_key()
    if not secret:
        return {
            **report,
            "status": "no_key",
            "message": f"environment variable {settings.api_key_env} (openai.api_key_env) is not set",
        }
    started = time.monotonic()
    try:
        client = make_client(settings, secret)
        request = PoolRequest(settings.model, 'Reply with the JSON object {"ok": true}.', 1)
        response = complete(client, request, [{"role": "user", "content": request.prompt}], 16, settings, secret)
    except LLMError as exc:
        return {**report, "status": "error", "message": one_line(str(exc), secret)}
    latency = time.monotonic() - started
    return {
        **report,
        "ok": True,
        "status": "success",
        "message": f"{settings.model} answered in {latency:.2f}s",
        "model": getattr(response, "model", None) or settings.model,
        "response_id": getattr(response, "id", None),
        "latency_seconds": round(latency, 3),
    }
