"""In-memory workflows of the local user: submit, charge, dedup, cancel, settle."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from .blobs import OUTPUT_SLOTS, BlobSpec, output_blobs
from .buzz import BuzzLedger, Transaction
from .timeline import TERMINAL, StepState, Timings, rollup, step_states

if TYPE_CHECKING:
    from civitai_app_sdk_generated.models import WorkflowTemplate

__all__ = ["USER_ID", "Store", "WorkflowRecord", "step_cost"]

USER_ID: Final = 1
"""Id of the one local user every accepted token belongs to."""
_UNIT_COST: Final = {"image": 4, "video": 50, "audio": 10}


def step_cost(step_type: str, blobs: int) -> int:
    """Buzz for one step: per output file by kind, 1 for data-only steps."""
    slot = OUTPUT_SLOTS.get(step_type)
    return _UNIT_COST[slot[1]] * blobs if slot else 1


@attrs.define
class WorkflowRecord:
    """A submitted workflow; its status is computed from the clock, not stored."""

    id: str
    seq: int
    created_at: float
    template: WorkflowTemplate
    steps: list[dict[str, Any]]
    blobs: list[list[BlobSpec]]
    job_ids: list[str]
    failing: list[bool]
    step_costs: list[int]
    cost: dict[str, Any]
    tags: list[str]
    metadata: dict[str, Any]
    debits: list[Transaction] = attrs.Factory(list)
    credits: list[Transaction] = attrs.Factory(list)
    canceled_at: float | None = None
    settled: bool = False

    def states(self, timings: Timings, now: float) -> list[StepState]:
        """Each step's state at ``now``."""
        return step_states(self.created_at, timings, self.failing, self.canceled_at, now)

    def status(self, timings: Timings, now: float) -> str:
        """The workflow's status at ``now``."""
        return rollup(self.states(timings, now))


def _workflow_id(now: float, taken: Mapping[str, object]) -> str:
    """``<userId>-<yyyyMMddHHmmssfff>``, bumped a millisecond while taken."""
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    while True:
        candidate = f"{USER_ID}-{moment:%Y%m%d%H%M%S}{moment.microsecond // 1000:03d}"
        if candidate not in taken:
            return candidate
        moment += dt.timedelta(milliseconds=1)


def _cost(template: WorkflowTemplate, base: int) -> dict[str, Any]:
    rates = template.tips
    civitai = math.ceil(base * rates.civitai) if rates else 0
    creators = math.ceil(base * rates.creators) if rates else 0
    return {
        "base": base,
        "tips": {"civitai": civitai, "creators": creators},
        "total": base + civitai + creators,
    }


class Store:
    """Every workflow of the local user, its Buzz ledger and the failure rules."""

    def __init__(
        self,
        ledger: BuzzLedger,
        timings: Timings,
        fails: Callable[[dict[str, Any]], bool],
    ) -> None:
        """Use ``ledger`` for charges; ``fails(step)`` picks steps that end ``failed``."""
        self.ledger = ledger
        self.timings = timings
        self._fails = fails
        self.workflows: dict[str, WorkflowRecord] = {}
        self._external: dict[str, str] = {}
        self._blob_owner: dict[str, tuple[str, int, BlobSpec]] = {}
        self._seq = itertools.count()

    def prepare(self, template: WorkflowTemplate, now: float) -> WorkflowRecord:
        """A record for ``template`` (not stored, not charged): what a whatif shows."""
        steps: list[dict[str, Any]] = []
        blobs: list[list[BlobSpec]] = []
        for index, step in enumerate(template.steps):
            data = step.model_dump(mode="json", by_alias=True, exclude_none=True)
            data.setdefault("name", f"${index}")
            data.setdefault("priority", "normal")
            data.setdefault("metadata", {})
            steps.append(data)
            blobs.append(output_blobs(data["$type"], getattr(step, "input", None)))
        step_costs = [step_cost(s["$type"], len(b)) for s, b in zip(steps, blobs, strict=True)]
        return WorkflowRecord(
            id=_workflow_id(now, self.workflows),
            seq=next(self._seq),
            created_at=now,
            template=template,
            steps=steps,
            blobs=blobs,
            job_ids=[str(uuid.uuid4()) for _ in steps],
            failing=[self._fails(s) for s in steps],
            step_costs=step_costs,
            cost=_cost(template, sum(step_costs)),
            tags=list(template.tags or []),
            metadata=dict(template.metadata or {}),
        )

    def by_external_id(self, external_id: str | None) -> WorkflowRecord | None:
        """The workflow submitted earlier with this idempotency key, if any."""
        if external_id is None:
            return None
        known = self._external.get(f"{USER_ID}-{external_id}")
        return self.workflows.get(known) if known else None

    def submit(self, record: WorkflowRecord) -> None:
        """Charge and store a prepared record (raises ``InsufficientBuzzError``)."""
        currencies = [c.value for c in record.template.currencies or ()]
        record.debits = self.ledger.debit(record.cost["total"], currencies, record.id)
        self.workflows[record.id] = record
        if record.template.external_id is not None:
            self._external[f"{USER_ID}-{record.template.external_id}"] = record.id
        for index, specs in enumerate(record.blobs):
            for spec in specs:
                self._blob_owner[spec.id] = (record.id, index, spec)

    def settle(self, record: WorkflowRecord, now: float) -> None:
        """Once a workflow failed or was canceled, refund the steps that did not succeed."""
        if record.settled:
            return
        states = record.states(self.timings, now)
        status = rollup(states)
        if status not in TERMINAL:
            return
        record.settled = True
        unearned = sum(
            cost
            for cost, state in zip(record.step_costs, states, strict=True)
            if state.status != "succeeded"
        )
        if status != "succeeded" and unearned:
            share = math.ceil(record.cost["total"] * unearned / max(sum(record.step_costs), 1))
            record.credits = self.ledger.refund(record.debits, share, record.id)

    def settle_all(self, now: float) -> None:
        """Settle every workflow (before the balance is read)."""
        for record in self.workflows.values():
            self.settle(record, now)

    def cancel(self, record: WorkflowRecord, now: float) -> None:
        """Cancel what has not finished yet (a no-op on a finished workflow)."""
        if record.canceled_at is None and record.status(self.timings, now) not in TERMINAL:
            record.canceled_at = now
        self.settle(record, now)

    def delete(self, record: WorkflowRecord, now: float) -> None:
        """Cancel, refund and forget a workflow."""
        self.cancel(record, now)
        del self.workflows[record.id]
        for specs in record.blobs:
            for spec in specs:
                self._blob_owner.pop(spec.id, None)

    def blob(self, blob_id: str, now: float) -> BlobSpec | None:
        """A blob whose step has succeeded, else ``None``."""
        owner = self._blob_owner.get(blob_id)
        if owner is None or owner[0] not in self.workflows:
            return None
        record = self.workflows[owner[0]]
        produced = record.states(self.timings, now)[owner[1]].status == "succeeded"
        return owner[2] if produced else None
