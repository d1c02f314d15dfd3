"""Sign in with Civitai in a FastAPI app, in a few lines (checked by ``mypy --strict``).

Run it with ``uvicorn examples.web_login_fastapi:app`` after setting
``CIVITAI_CLIENT_ID``, ``APP_URL`` (for example ``http://127.0.0.1:8000``) and
``COOKIE_SECRET`` (``python -c 'import secrets; print(secrets.token_urlsafe(32))'``);
``CIVITAI_OAUTH_URL`` and ``CIVITAI_SITE_URL`` point it at a local server instead.
"""

import html
import os
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from civitai_app_sdk.oauth import CivitaiUser
from civitai_app_sdk.scopes import TokenScope
from civitai_app_sdk.web import CivitaiAuth, Session


def create_app() -> FastAPI:
    """The app: a home page that greets the signed-in user, and the sign-in routes."""
    app_url = os.environ.get("APP_URL", "http://127.0.0.1:8000")
    auth = CivitaiAuth(
        client_id=os.environ["CIVITAI_CLIENT_ID"],
        client_secret=os.environ.get("CIVITAI_CLIENT_SECRET"),
        redirect_uri=f"{app_url}/auth/callback",
        scopes=TokenScope.UserRead | TokenScope.BuzzRead,
        cookie_secrets=os.environ["COOKIE_SECRET"].split(","),  # "new,old" rotates
        oauth_url=os.environ.get("CIVITAI_OAUTH_URL", "https://auth.civitai.com"),
        site_url=os.environ.get("CIVITAI_SITE_URL", "https://civitai.com"),
    )
    app = FastAPI()
    auth.install(app)

    @app.get("/", response_class=HTMLResponse)
    async def home(session: Annotated[Session, Depends(auth.session)]) -> str:
        if not session.signed_in:
            return f'<a href="{auth.login_url("/me")}">Sign in with Civitai</a>'
        user = await session.user()
        return f"<p>Hello {html.escape(user.username or str(user.id))}</p>"

    @app.get("/me")
    async def me(user: Annotated[CivitaiUser, Depends(auth.user)]) -> dict[str, object]:
        return {"id": user.id, "username": user.username}

    return app


app = create_app() if "CIVITAI_CLIENT_ID" in os.environ else None
"""The app for ``uvicorn``, when configured by the environment."""
