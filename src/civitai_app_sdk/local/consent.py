"""The local OAuth server's consent page: who asks, for what, and Approve or Deny."""

from __future__ import annotations

import html
from typing import Final
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

from civitai_app_sdk.scopes import SCOPE_INFO, TokenScope

__all__ = ["consent_page", "scope_words"]

_STYLE: Final = """
body{font:16px/1.5 system-ui,sans-serif;background:#f4f4f7;color:#1b1b1f;margin:0}
main{max-width:32rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;
box-shadow:0 2px 12px #0002}
h1{font-size:1.4rem;margin-top:0}
ul{padding-left:1.2rem}
.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.4rem;border-radius:8px;border:2px solid #1b1b1f;cursor:pointer}
button.approve{background:#1864ab;border-color:#1864ab;color:#fff}
button.deny{background:#fff;color:#1b1b1f}
button:focus-visible{outline:3px solid #f59f00;outline-offset:2px}
.note{color:#555;font-size:.9rem}
"""


def scope_words(scope: int) -> list[str]:
    """The consent-screen label of every bit in ``scope``, in bit order."""
    return [info.label for bit, info in SCOPE_INFO.items() if scope & int(bit)] or [
        f"Unknown permissions ({int(TokenScope(scope))})"
    ]


def consent_page(
    *, app_name: str, scopes: list[str], redirect_uri: str, action: str, consent_id: str
) -> HTMLResponse:
    """The page, with framing forbidden and form posts limited to here and the app."""
    parts = urlsplit(redirect_uri)
    target = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # no user info in the CSP
    items = "".join(f"<li>{html.escape(text)}</li>" for text in scopes)
    name = html.escape(app_name)
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize {name}</title><style>{_STYLE}</style></head>
<body><main>
<h1 id="consent-title"><strong>{name}</strong> wants to use your Civitai account</h1>
<p>If you approve, <strong>{name}</strong> will be able to:</p>
<ul aria-label="Permissions requested">{items}</ul>
<p class="note">You will be sent back to {html.escape(target)}.</p>
<form method="post" action="{html.escape(action)}" aria-labelledby="consent-title">
<input type="hidden" name="consent_id" value="{html.escape(consent_id)}">
<div class="actions">
<button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button>
</div></form></main></body></html>
"""
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
        f"form-action 'self' {target}"
    )
    headers = {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(body, headers=headers)
