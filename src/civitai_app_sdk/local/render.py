"""Workflow JSON as the API returns it, checked against the generated ``Workflow`` model."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Final

import attrs

from civitai_app_sdk import models

from .blobs import OUTPUT_SLOTS, BlobSpec, Signer
from .buzz import InsufficientBuzzError
from .store import USER_ID, Store, WorkflowRecord
from .timeline import TERMINAL, StepState, rollup

__all__ = ["Renderer", "iso", "warm_up"]

_URL_LIFETIME: Final = 3600.0
_MATURE: Final = frozenset({"r", "x", "xxx", "na"})


def iso(timestamp: float) -> str:
    """ISO 8601 UTC with 7 fractional digits, like .NET."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z"


def _opt_iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else iso(timestamp)


@attrs.frozen
class Renderer:
    """Turns records into response bodies for one server (base URL, signer, clock time)."""

    store: Store
    signer: Signer
    base_url: str

    def blob_url(self, blob_id: str, now: float) -> tuple[str, str]:
        """A signed GetBlob URL for ``blob_id`` and its expiry."""
        expires = iso(now + _URL_LIFETIME)
        signature = self.signer.sign(f"{blob_id}|{expires}")
        return f"{self.base_url}/v2/consumer/blobs/{blob_id}?sig={signature}&exp={expires}", expires

    def _blob(self, spec: BlobSpec, job_id: str, now: float, hide_mature: bool) -> dict[str, Any]:
        nsfw = "pg"
        body: dict[str, Any] = {
            "type": spec.kind,
            "id": spec.id,
            "available": True,
            "jobId": job_id,
            "nsfwLevel": nsfw,
        }
        if not (hide_mature and nsfw in _MATURE):
            body["url"], body["urlExpiresAt"] = self.blob_url(spec.id, now)
            if spec.kind == "image":
                body["previewUrl"], body["previewUrlExpiresAt"] = body["url"], body["urlExpiresAt"]
        if spec.kind in ("image", "video"):
            body["width"], body["height"] = spec.width or 512, spec.height or 512
        if spec.kind == "audio":
            body["duration"] = 0.5
        return body

    def _output(self, step_type: str, blobs: list[dict[str, Any]]) -> dict[str, Any] | None:
        slot = OUTPUT_SLOTS.get(step_type)
        if slot is None:
            return None
        field, _, many = slot
        output: dict[str, Any] = {field: blobs if many else blobs[0]}
        if step_type == "imageGen":
            output["errors"] = []
        return output

    def _step(
        self, record: WorkflowRecord, index: int, state: StepState, now: float, hide: bool
    ) -> dict[str, Any]:
        step = dict(record.steps[index])
        job: dict[str, Any] = {
            "id": record.job_ids[index],
            "status": state.status,
            "cost": float(record.step_costs[index]),
            "startedAt": _opt_iso(state.started_at),
            "completedAt": _opt_iso(state.completed_at),
            "estimatedProgressRate": state.progress,
        }
        if state.started_at is None and state.status not in TERMINAL:
            job["queuePosition"] = {"support": "available", "precedingJobs": 0}
        step.update(
            status=state.status,
            jobs=[job],
            startedAt=_opt_iso(state.started_at),
            completedAt=_opt_iso(state.completed_at),
            estimatedProgressRate=state.progress,
        )
        if state.status == "succeeded":
            blobs = [self._blob(s, record.job_ids[index], now, hide) for s in record.blobs[index]]
            step["output"] = self._output(step["$type"], blobs)
        return step

    def workflow(
        self, record: WorkflowRecord, now: float, *, hide_mature: bool = False, whatif: bool = False
    ) -> dict[str, Any]:
        """The Workflow body of ``record`` at ``now`` (a whatif shows the would-be debits)."""
        self.store.settle(record, now)
        states = record.states(self.store.timings, now)
        if whatif:
            states = [StepState("unassigned")] * len(states)
        template = record.template
        started = [s.started_at for s in states if s.started_at is not None]
        status = rollup(states)
        transactions: dict[str, Any] = {"list": [*record.debits, *record.credits]}
        if whatif:
            transactions = self._estimate_transactions(record)
        body: dict[str, Any] = {
            "id": None if whatif else record.id,
            "createdAt": iso(record.created_at),
            "startedAt": None if whatif or not started else iso(min(started)),
            "completedAt": _opt_iso(states[-1].completed_at) if status in TERMINAL else None,
            "status": status,
            "steps": [self._step(record, i, s, now, hide_mature) for i, s in enumerate(states)],
            "cost": record.cost,
            "transactions": transactions,
            "tags": record.tags,
            "metadata": record.metadata,
            "arguments": template.arguments or {},
            "callbacks": [
                c.model_dump(mode="json", by_alias=True) for c in template.callbacks or []
            ],
            "currencies": [c.value for c in template.currencies or ()],
            "tips": template.tips.model_dump(mode="json")
            if template.tips
            else {"civitai": 0, "creators": 0},
            "upgradeMode": template.upgrade_mode.value if template.upgrade_mode else "manual",
            "forceRefunded": False,
            "externalId": None
            if whatif or template.external_id is None
            else f"{USER_ID}-{template.external_id}",
            "allowMatureContent": template.allow_mature_content,
            "nsfwLevel": template.nsfw_level.value if template.nsfw_level else None,
            "experimental": template.experimental,
            "ephemeral": template.ephemeral,
        }
        model = models.Workflow.model_validate(body)
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)

    def _estimate_transactions(self, record: WorkflowRecord) -> dict[str, Any]:
        currencies = [c.value for c in record.template.currencies or ()]
        try:
            debits = self.store.ledger.plan(record.cost["total"], currencies)
        except InsufficientBuzzError:
            return {"list": [], "insufficientBuzz": True}
        return {"list": debits, "insufficientBuzz": False}


def warm_up() -> None:
    """Import the generated models and build their validators (about a second, once)."""
    for model in (models.WorkflowTemplate, models.Workflow, models.UpdateWorkflowRequest):
        with contextlib.suppress(ValueError):
            model.model_validate({})
