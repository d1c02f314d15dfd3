"""The starter app's routes: FastAPI + Jinja2 over ``civitai_app_sdk.web``.

Every page that needs the user takes ``Depends(auth.require_session)``; orchestrator
calls use the session's refreshing token source, so a refreshed token goes back to
the browser in the same response. (No ``from __future__ import annotations`` here:
FastAPI reads the route signatures, whose dependency aliases are local names.)
"""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import attrs
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from civitai_app_sdk.errors import CivitaiError, OrchestratorError
from civitai_app_sdk.models import Workflow
from civitai_app_sdk.orchestrator import (
    AsyncOrchestratorClient,
    build_text_to_image_body,
    extract_images,
    is_terminal,
    new_external_id,
)
from civitai_app_sdk.scopes import TokenScope
from civitai_app_sdk.web import CivitaiAuth, Session, WebAuthError

from .buzz import buzz_balance

if TYPE_CHECKING:
    from civitai_app_sdk_generated.params import WorkflowTemplateParam

HERE: Final = Path(__file__).parent
SCOPES: Final = (
    TokenScope.UserRead
    | TokenScope.BuzzRead
    | TokenScope.AIServicesRead
    | TokenScope.AIServicesWrite
)
"""What the app asks for: profile, Buzz balance, and running generations."""
TAG: Final = "starter-webapp"
"""Tag put on every workflow this app submits (its history lists only those)."""
_EXTERNAL_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,100}")
_ID: Final = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_MAX_PROMPT: Final = 1000
_STREAM_SECONDS: Final = 45.0


@attrs.frozen
class WebappSettings:
    """Where the app lives and which Civitai services it talks to."""

    client_id: str
    redirect_uri: str
    cookie_secrets: Sequence[str]
    client_secret: str | None = None
    oauth_url: str = "https://auth.civitai.com"
    site_url: str = "https://civitai.com"
    api_url: str = "https://orchestration.civitai.com"
    poll_interval: float = 1.0


@attrs.frozen
class _Form:
    prompt: str
    quantity: int

    def body(self, external_id: str | None = None) -> "WorkflowTemplateParam":
        body = build_text_to_image_body(
            {"prompt": self.prompt, "quantity": self.quantity, "width": 512, "height": 512},
            tags=[TAG],
        )
        if external_id is not None:
            body["externalId"] = external_id
        return body


def _read_form(prompt: str, quantity: int) -> _Form:
    prompt = prompt.strip()
    if not prompt or len(prompt) > _MAX_PROMPT:
        raise ValueError(f"Write a prompt of 1 to {_MAX_PROMPT} characters.")
    if not 1 <= quantity <= 4:
        raise ValueError("Choose between 1 and 4 images.")
    return _Form(prompt, quantity)


def _checked(*ids: str) -> None:
    """Refuse ids that are not plain tokens (they end up in headers and URLs)."""
    if not all(_ID.fullmatch(value) for value in ids):
        raise ValueError("That link is not valid.")


def _progress(workflow: Workflow) -> dict[str, Any]:
    rates = [s.estimated_progress_rate or 0.0 for s in workflow.steps or []]
    done = is_terminal(workflow.status)
    percent = 100 if done else round(100 * (sum(rates) / len(rates))) if rates else 0
    return {"status": str(workflow.status.value), "percent": percent, "done": done}


def create_app(settings: WebappSettings) -> FastAPI:
    """The app, wired to ``settings``."""
    templates = Jinja2Templates(directory=HERE / "templates")

    async def error_page(request: Request, error: WebAuthError) -> Response:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": error.title, "message": str(error), "user": None},
            status_code=error.status,
        )

    auth = CivitaiAuth(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        redirect_uri=settings.redirect_uri,
        scopes=SCOPES,
        cookie_secrets=settings.cookie_secrets,
        oauth_url=settings.oauth_url,
        site_url=settings.site_url,
        error_page=error_page,
    )
    app = FastAPI(title="Civitai starter app", docs_url=None, redoc_url=None, openapi_url=None)
    auth.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    SignedIn = Annotated[Session, Depends(auth.require_session)]
    AnySession = Annotated[Session, Depends(auth.session)]

    def orchestrator(session: Session) -> AsyncOrchestratorClient:
        return AsyncOrchestratorClient(session.token_source(), base_url=settings.api_url)

    async def page(request: Request, name: str, session: Session, **context: Any) -> Response:
        user = await session.user() if session.signed_in else None
        return templates.TemplateResponse(request, name, {"user": user, **context})

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self' "
            + settings.oauth_url,
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.get("/", response_class=HTMLResponse)
    async def home(session: AnySession, request: Request) -> Response:
        if not session.signed_in:
            return await page(request, "welcome.html", session, login=auth.login_url("/"))
        token = await session.access_token()
        balance = await buzz_balance(auth.oauth, token)
        return await page(request, "index.html", session, balance=balance, error=None)

    @app.post("/estimate", response_class=HTMLResponse)
    async def estimate(
        session: SignedIn,
        request: Request,
        prompt: Annotated[str, Form()] = "",
        quantity: Annotated[int, Form()] = 1,
    ) -> Response:
        try:
            form = _read_form(prompt, quantity)
        except ValueError as exc:
            balance = await buzz_balance(auth.oauth, await session.access_token())
            return await page(request, "index.html", session, balance=balance, error=str(exc))
        async with orchestrator(session) as client:
            priced = await client.estimate(form.body())
        cost = priced.cost.total if priced.cost else 0
        return await page(
            request, "confirm.html", session, form=form, cost=cost, external_id=new_external_id()
        )

    @app.post("/submit")
    async def submit(
        session: SignedIn,
        prompt: Annotated[str, Form()] = "",
        quantity: Annotated[int, Form()] = 1,
        external_id: Annotated[str, Form()] = "",
    ) -> Response:
        form = _read_form(prompt, quantity)
        if not _EXTERNAL_ID.fullmatch(external_id):
            raise ValueError("the confirmation form is damaged; estimate again")
        async with orchestrator(session) as client:
            workflow = await client.submit(form.body(), external_id=external_id)
        return RedirectResponse(f"/workflows/{workflow.id}", 303)

    @app.get("/workflows/{workflow_id}", response_class=HTMLResponse)
    async def workflow_page(session: SignedIn, request: Request, workflow_id: str) -> Response:
        _checked(workflow_id)
        async with orchestrator(session) as client:
            workflow = await client.get(workflow_id)
        images = extract_images(workflow) if is_terminal(workflow.status) else []
        return await page(
            request,
            "workflow.html",
            session,
            workflow=workflow,
            progress=_progress(workflow),
            images=images,
        )

    @app.get("/workflows/{workflow_id}/events")
    async def workflow_events(session: SignedIn, workflow_id: str) -> StreamingResponse:
        # The stream uses the token as it is now: a refresh in mid-stream could not reach
        # the browser's cookie (the headers are gone). Streams end before it could expire;
        # the page then reloads, which refreshes through the normal path.
        _checked(workflow_id)
        token = await session.access_token()

        async def stream() -> AsyncIterator[str]:
            deadline = asyncio.get_running_loop().time() + _STREAM_SECONDS
            async with AsyncOrchestratorClient(token, base_url=settings.api_url) as client:
                while True:
                    state = _progress(await client.get(workflow_id))
                    yield f"data: {json.dumps(state)}\n\n"
                    if state["done"] or asyncio.get_running_loop().time() > deadline:
                        return
                    await asyncio.sleep(settings.poll_interval)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @app.get("/workflows/{workflow_id}/images/{blob_id}")
    async def image(
        session: SignedIn, workflow_id: str, blob_id: str, download: bool = False
    ) -> Response:
        _checked(workflow_id, blob_id)
        async with orchestrator(session) as client:
            data = await client.get_blob(blob_id, workflow_id=workflow_id)
        kind = "image/png" if blob_id.endswith(".png") else "image/jpeg"
        headers = {"Cache-Control": "private, max-age=3600"}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="{blob_id}"'
        return Response(data, media_type=kind, headers=headers)

    @app.get("/history", response_class=HTMLResponse)
    async def history(session: SignedIn, request: Request) -> Response:
        async with orchestrator(session) as client:
            page_ = await client.list(tags=[TAG], take=20)
        return await page(request, "history.html", session, workflows=page_.items)

    @app.post("/workflows/{workflow_id}/cancel")
    async def cancel(session: SignedIn, workflow_id: str) -> Response:
        _checked(workflow_id)
        async with orchestrator(session) as client:
            await client.cancel(workflow_id)
        return RedirectResponse("/history", 303)

    @app.exception_handler(OrchestratorError)
    async def orchestrator_failed(request: Request, error: Exception) -> Response:
        message = str(error) if isinstance(error, CivitaiError) else "Something went wrong."
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": "The generation service answered with an error",
                "message": message,
                "user": None,
            },
            status_code=502,
        )

    @app.exception_handler(ValueError)
    async def bad_input(request: Request, error: Exception) -> Response:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": "Please check your input", "message": str(error), "user": None},
            status_code=400,
        )

    return app
