"""The starter app in a real browser: the whole sign-in-to-images path, and four attacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.browser


def shot(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def sign_in(page: Any, stack: Any, shots: Path | None = None, next_path: str = "/") -> None:
    """From the welcome page through the consent page (approved with the keyboard)."""
    page.goto(f"{stack.url}/auth/login?{urlencode({'next': next_path})}")
    consent(page, "approve", shots)


def consent(page: Any, decision: str, shots: Path | None = None) -> None:
    page.wait_for_selector("text=wants to use your Civitai account")
    if shots is not None:
        shot(page, shots, "02-consent")
    button = page.get_by_role("button", name=decision.capitalize())
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def session_cookies(page: Any) -> list[dict[str, Any]]:
    return [c for c in page.context.cookies() if c["name"].startswith("civitai_session")]


def test_sign_in_estimate_submit_watch_download_and_sign_out(
    page: Any, stack: Any, shots: Path
) -> None:
    page.goto(stack.url + "/")
    shot(page, shots, "01-welcome")
    page.get_by_role("link", name="Sign in with Civitai").click()
    page.wait_for_selector("text=Civitai starter app")
    permissions = page.get_by_role("list", name="Permissions requested").inner_text()
    assert "Generate, train & scan" in permissions
    assert "View buzz balance & history" in permissions
    consent(page, "approve", shots)
    assert page.url == stack.url + "/"
    assert page.get_by_test_id("username").inner_text() == "local-user"
    balance = int(page.get_by_test_id("balance").inner_text())
    cookie = session_cookies(page)[0]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    shot(page, shots, "03-home")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('textarea, select, input:not([type=hidden])')]"
        ".filter(e => e.labels.length === 0).length"
    )
    assert unlabelled == 0
    page.get_by_label("Prompt").fill("a lighthouse at dusk, oil painting")
    page.get_by_label("Number of images").select_option("2")
    page.get_by_role("button", name="Estimate the cost").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    cost = int(page.get_by_test_id("cost").inner_text())
    assert cost > 0
    shot(page, shots, "04-confirm")

    page.get_by_role("button", name=re.compile(r"^Spend \d+ Buzz")).click()
    assert "/workflows/" in page.url
    shot(page, shots, "05-progress")
    page.wait_for_selector("img[alt^='Generated image']", timeout=30_000)
    assert page.get_by_test_id("status").inner_text() == "succeeded"
    assert page.locator("img[alt^='Generated image']").count() == 2
    for index in range(2):
        image = page.locator("img").nth(index)
        natural = image.evaluate("img => img.decode().then(() => img.naturalWidth)")
        assert natural > 0
    shot(page, shots, "06-images")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download image 1").click()
    saved = Path(download.value.path())
    assert saved.stat().st_size > 100
    assert download.value.suggested_filename.endswith((".png", ".jpeg", ".jpg"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    assert page.locator("[data-testid=history-status]").first.inner_text() == "succeeded"
    shot(page, shots, "07-history")

    page.goto(stack.url + "/")
    assert int(page.get_by_test_id("balance").inner_text()) == balance - cost
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=Sign in with Civitai")
    assert session_cookies(page) == []
    shot(page, shots, "08-signed-out")


def test_deny_shows_the_apps_error_page(page: Any, stack: Any, shots: Path) -> None:
    page.goto(stack.url + "/auth/login")
    consent(page, "deny")
    assert page.url.startswith(stack.url + "/auth/callback")
    assert "Access was not granted" in page.content()
    assert session_cookies(page) == []
    shot(page, shots, "09-denied")


def test_a_tampered_cookie_signs_the_user_out(page: Any, stack: Any, shots: Path) -> None:
    sign_in(page, stack)
    cookie = session_cookies(page)[0]
    value = cookie["value"]
    flipped = value[:-1] + ("0" if value[-1] != "0" else "1")
    page.context.add_cookies([{**cookie, "value": flipped}])
    response = page.goto(stack.url + "/history")
    assert response is not None
    assert "wants to use your Civitai account" in page.content()  # sent to sign in again
    assert all(c["value"] != flipped for c in session_cookies(page))
    shot(page, shots, "10-tampered-cookie")


def test_a_replayed_callback_is_refused(page: Any, stack: Any, shots: Path) -> None:
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/auth/callback" in r.url else None)
    sign_in(page, stack)
    assert page.get_by_test_id("username").inner_text() == "local-user"
    assert len(callbacks) == 1
    response = page.goto(callbacks[0])
    assert response is not None
    assert response.status == 400
    assert "Sign-in could not be verified" in page.content()
    shot(page, shots, "11-replayed-callback")


def test_a_state_mismatch_is_refused(page: Any, stack: Any, shots: Path) -> None:
    page.goto(stack.url + "/auth/login")
    page.wait_for_selector("text=wants to use your Civitai account")
    parts = urlsplit(page.url)
    query = dict(parse_qsl(parts.query))
    query["state"] = "attacker-chosen-state-value"
    page.goto(urlunsplit(parts._replace(query=urlencode(query))))
    consent(page, "approve")
    assert "Sign-in could not be verified" in page.content()
    assert session_cookies(page) == []
    shot(page, shots, "12-state-mismatch")


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example/"])
def test_next_cannot_redirect_off_site(page: Any, stack: Any, shots: Path, target: str) -> None:
    sign_in(page, stack, next_path=target)
    assert page.url == stack.url + "/"
    assert page.get_by_test_id("username").inner_text() == "local-user"
    if target == "//evil.example":
        shot(page, shots, "13-open-redirect-blocked")
