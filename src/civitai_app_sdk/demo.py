"""``make demo``: log in, check Buzz, estimate, submit, follow and download, offline.

Offline (the default) everything runs against :mod:`civitai_app_sdk.local` on a
loopback port: PKCE login (auto-consent), the balance, the estimate, the workflow and
its files. ``--live`` runs the same against the real services with
``CIVITAI_API_TOKEN`` (skipping the login, and spending real Buzz).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from rich.console import Console
from rich.table import Table

from civitai_app_sdk._transport import Settings, SyncTransport, to_url
from civitai_app_sdk.errors import CivitaiError, ConfigurationError, LocalServerError
from civitai_app_sdk.models import Workflow
from civitai_app_sdk.oauth import (
    DEFAULT_SITE_URL,
    OAuthClient,
    build_authorize_url,
    fetch_buzz_balances,
    generate_pkce,
    generate_state,
)
from civitai_app_sdk.orchestrator import (
    OrchestratorClient,
    build_text_to_image_body,
    extract_blobs,
    new_external_id,
)
from civitai_app_sdk.scopes import TokenScope

OUTPUT_DIR: Final = Path("demo-output")
"""Where the results are saved, one folder per workflow."""
CLIENT_ID: Final = "civitai-app-sdk-demo"
"""OAuth client id the demo logs in with (a public client)."""
REDIRECT_URI: Final = "http://127.0.0.1:8765/callback"
"""Loopback redirect URI of the PKCE login (the local server consents without a visit)."""
AI_SERVICES: Final = int(
    TokenScope.UserRead
    | TokenScope.BuzzRead
    | TokenScope.AIServicesRead
    | TokenScope.AIServicesWrite
)
"""Scope bitmask asked for: UserRead, BuzzRead, AIServicesRead and AIServicesWrite."""
PROMPT: Final = "a lighthouse on a cliff at dusk, oil painting"
"""The text-to-image prompt of the demo workflow."""

console = Console(highlight=False)


def _login(base_url: str) -> str:
    """PKCE login against the local OAuth server; returns the access token."""
    pkce, state = generate_pkce(), generate_state()
    url = build_authorize_url(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        scope=AI_SERVICES,
        state=state,
        code_challenge=pkce.challenge,
        base_url=base_url,
    )
    browser = SyncTransport(Settings.create(timeout=10, token_env=None, url_env=None))
    with contextlib.closing(browser):  # the local server consents at once: a redirect
        consent = browser.send(to_url("GET", url, accept=frozenset({302, 303})))
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    if query.get("state") != [state]:
        raise LocalServerError("the authorize redirect carried the wrong state")
    with OAuthClient(CLIENT_ID, base_url=base_url, site_url=base_url) as oauth:
        tokens = oauth.exchange_code(
            query["code"][0], redirect_uri=REDIRECT_URI, code_verifier=pkce.verifier
        )
    console.print(f"[green]✓[/] Logged in with PKCE (scope {int(tokens.scope)})")
    return tokens.access_token


def _progress(workflow: Workflow) -> None:
    rates = [s.estimated_progress_rate for s in workflow.steps if s.estimated_progress_rate]
    percent = f" {100 * rates[0]:.0f}%" if rates else ""
    console.print(f"  … {workflow.status.value}{percent}")


def _summary(workflow: Workflow, files: list[Path], spent: int, elapsed: float) -> None:
    table = Table(title="Summary", show_header=False)
    table.add_row("workflow", str(workflow.id))
    table.add_row("status", workflow.status.value)
    total = workflow.cost.total if workflow.cost else "?"
    table.add_row("cost", f"{total} Buzz (charged {spent})")
    for path in files:
        table.add_row("file", f"{path} ({path.stat().st_size} bytes)")
    table.add_row("time", f"{elapsed:.1f} s")
    console.print(table)


def run(live: bool) -> int:
    """The demo; returns the exit code."""
    started = time.monotonic()
    with ExitStack() as stack:
        if live:
            token = os.environ.get("CIVITAI_API_TOKEN", "")
            if not token:
                console.print("[red]LIVE=1 needs CIVITAI_API_TOKEN[/]")
                return 2
            api_url, site_url = None, DEFAULT_SITE_URL
            console.print("Using CIVITAI_API_TOKEN against the real services (spends Buzz)")
        else:
            from civitai_app_sdk.local import LocalServer

            server = stack.enter_context(LocalServer())
            console.print(f"[green]✓[/] Local orchestrator and OAuth server on {server.url}")
            api_url = site_url = server.url
            token = _login(server.url)
        before = fetch_buzz_balances(token, site_url=site_url)
        console.print(
            f"[green]✓[/] Buzz: blue {before.blue}, green {before.green}, yellow {before.yellow}"
        )
        orchestrator = stack.enter_context(OrchestratorClient(token, base_url=api_url))
        body = build_text_to_image_body({"prompt": PROMPT, "quantity": 2}, tags=["sdk-demo"])
        estimate = orchestrator.estimate(body)
        priced = estimate.cost.total if estimate.cost else "?"
        console.print(f"[green]✓[/] Estimated cost: {priced} Buzz")
        workflow = orchestrator.submit(body, external_id=new_external_id())
        console.print(f"[green]✓[/] Submitted {workflow.id}")
        _progress(workflow)
        assert workflow.id is not None
        final = orchestrator.poll(workflow.id, timeout=300, on_update=_progress)
        target = OUTPUT_DIR / workflow.id
        target.mkdir(parents=True, exist_ok=True)
        files = [orchestrator.download_blob(b.id, dir=target) for b in extract_blobs(final)]
        after = fetch_buzz_balances(token, site_url=site_url)
    spent = (before.blue + before.green + before.yellow) - (after.blue + after.green + after.yellow)
    _summary(final, files, spent, time.monotonic() - started)
    return 0 if final.status.value == "succeeded" else 1


def main(argv: list[str] | None = None) -> int:
    """Parse ``--live`` and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m civitai_app_sdk.demo", description=__doc__)
    parser.add_argument("--live", action="store_true", help="use the real services")
    live = parser.parse_args(argv).live
    try:
        return run(live)
    except ConfigurationError as exc:  # e.g. the [local] extra is missing
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        return 2
    except CivitaiError as exc:  # LIVE=1 offline, a refused token, no Buzz…
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
