"""Human views of workflows, steps and costs (rich tables on stdout), from JSON data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ._media import step_media
from ._output import entries, printable, shorten, status_text, stdout

Data = Mapping[str, Any]


def _when(value: object) -> str:
    text = str(value or "")
    return text[:19].replace("T", " ") if text else "-"


def step_prompt(step: Data) -> str | None:
    """The step's prompt, if its input has one (textToImage, imageGen, videoGen…)."""
    step_input = step.get("input")
    if isinstance(step_input, Mapping):
        prompt = step_input.get("prompt")
        if isinstance(prompt, str) and prompt.strip():
            return prompt
    return None


def _steps_cell(steps: Sequence[Data]) -> str:
    return printable(
        ", ".join(f"{s.get('name')}:{s.get('$type', '?')}({s.get('status') or '-'})" for s in steps)
    )


def cost_text(workflow: Data) -> str:
    """``12 Buzz`` from the workflow's cost total, or ``-``."""
    cost = workflow.get("cost")
    total = cost.get("total") if isinstance(cost, Mapping) else None
    return f"{total} Buzz" if isinstance(total, int | float) else "-"


def buzz_moved(workflow: Data) -> tuple[int, int]:
    """Buzz charged (debits) and refunded (credits) by the workflow's transactions."""
    transactions = workflow.get("transactions")
    entries = transactions.get("list") if isinstance(transactions, Mapping) else None
    totals = {"debit": 0, "credit": 0}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and entry.get("type") in totals:
            amount = entry.get("amount")
            if isinstance(amount, int | float) and not isinstance(amount, bool):
                totals[str(entry["type"])] += int(amount)
    return totals["debit"], totals["credit"]


def _reasons(step: Data) -> list[str]:
    found: list[str] = []
    output = step.get("output")
    errors = output.get("errors") if isinstance(output, Mapping) else None
    found += [str(e) for e in errors if e] if isinstance(errors, list) else []
    for job in entries(step.get("jobs")):
        if isinstance(job, Mapping):
            found += [str(job[k]) for k in ("reason", "blockedReason") if job.get(k)]
    for key in ("reason", "error", "blockedReason"):
        if isinstance(step.get(key), str) and step[key]:
            found.append(step[key])
    return list(dict.fromkeys(" ".join(r.split()).rstrip(". ") for r in found))


def failure_reasons(workflow: Data) -> list[str]:
    """One line per step that did not succeed: its name, type, status and the server's reason."""
    lines = []
    for step in entries(workflow.get("steps")):
        if not isinstance(step, Mapping) or step.get("status") == "succeeded":
            continue
        reasons = _reasons(step)
        why = "; ".join(reasons) if reasons else "the server gave no reason"
        lines.append(
            f"step {step.get('name')} ({step.get('$type', '?')}) {step.get('status') or '-'}: {why}"
        )
    return lines


WIDE: Final = 140
"""Console width from which the workflow table also shows each workflow's steps."""


def workflow_table(items: Sequence[Data]) -> None:
    """One row per workflow: id, status, created, cost, (steps,) first prompt.

    Ids, statuses, dates and costs are never cut or wrapped; below :data:`WIDE`
    columns the steps and seconds are left out, and the prompt gets what room is left.
    Cells are text (never markup), escaped before the columns are measured.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = stdout()
    wide = console.width >= WIDE
    rows = []
    for wf in items:
        steps = [s for s in entries(wf.get("steps")) if isinstance(s, Mapping)]
        created = _when(wf.get("createdAt"))
        fixed = [str(wf.get("id") or "-"), str(wf.get("status") or "unknown")]
        fixed = [printable(text) for text in [*fixed, created if wide else created[:16]]]
        fixed.append(cost_text(wf))
        prompt = next((p for s in steps if (p := step_prompt(s))), "")
        rows.append((fixed, _steps_cell(steps), printable(shorten(prompt, 60))))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    used = 0
    for index, name in enumerate(("ID", "Status", "Created", "Cost")):
        width = max([len(name), *(len(fixed[index]) for fixed, _, _ in rows)])
        table.add_column(name, no_wrap=True, min_width=width)
        used += width + 3
    if wide:
        table.add_column("Steps", overflow="fold", max_width=40)
        used += 43
    room = console.width - used - 1
    if room >= 10:
        table.add_column("Prompt", no_wrap=True, overflow="ellipsis", max_width=room)
    for fixed, steps_cell, prompt in rows:  # Text cells: a server's words are never markup
        cells = [Text(fixed[0]), status_text(fixed[1]), *map(Text, fixed[2:])]
        if wide:
            cells.append(Text(steps_cell))
        if room >= 10:
            cells.append(Text(prompt))
        table.add_row(*cells)
    console.print(table)


def workflow_summary(wf: Data) -> None:
    """A workflow's header fields and one block per step."""
    from rich.text import Text

    console = stdout()
    console.print(Text.assemble("Workflow ", (str(wf.get("id") or "-"), "bold")))
    console.print(Text.assemble("  Status:    ", status_text(wf.get("status"))))
    console.print(f"  Created:   {_when(wf.get('createdAt'))}", markup=False)
    if wf.get("completedAt"):
        console.print(f"  Completed: {_when(wf.get('completedAt'))}", markup=False)
    console.print(f"  Cost:      {cost_text(wf)}", markup=False)
    charged, refunded = buzz_moved(wf)
    if charged or refunded:
        console.print(f"  Charged:   {charged} Buzz", markup=False)
    if refunded:
        console.print(f"  Refunded:  {refunded} Buzz", style="green", markup=False)
    if tags := entries(wf.get("tags")):
        console.print(f"  Tags:      {', '.join(map(str, tags))}", markup=False)
    for step in entries(wf.get("steps")):
        if isinstance(step, Mapping):
            step_summary(step, indent="  ")


def step_summary(step: Data, indent: str = "") -> None:
    """A step's type, status, prompt, jobs and output files."""
    from rich.text import Text

    console = stdout()
    console.print(
        Text.assemble(
            f"{indent}Step ",
            (str(step.get("name") or "-"), "bold"),
            f" ({step.get('$type', '?')}) ",
            status_text(step.get("status")),
        )
    )
    prompt = step_prompt(step)
    if prompt:
        console.print(f"{indent}  Prompt: {shorten(prompt, 200)}", markup=False)
    step_input = step.get("input")
    negative = step_input.get("negativePrompt") if isinstance(step_input, Mapping) else None
    if isinstance(negative, str) and negative:
        console.print(f"{indent}  Negative: {shorten(negative, 100)}", markup=False)
    for job in entries(step.get("jobs")):
        if isinstance(job, Mapping):
            console.print(
                Text.assemble(f"{indent}  Job {job.get('id')} ", status_text(job.get("status")))
            )
    for reason in _reasons(step):
        console.print(f"{indent}  Error: {shorten(reason, 200)}", style="red", markup=False)
    for media in step_media(step):
        state = "available" if media.available and media.url else "no URL"
        if media.blocked_reason:
            state = f"blocked: {media.blocked_reason}"
        size = f" {media.describe()}" if media.describe() else ""
        console.print(
            f"{indent}  {media.kind}: {media.blob_id or '-'}{size} ({state})", markup=False
        )


def estimate_summary(wf: Data) -> None:
    """The cost of a workflow estimate: total, base, tips, and whether Buzz suffices."""
    console = stdout()
    cost = wf.get("cost") if isinstance(wf.get("cost"), Mapping) else {}
    assert isinstance(cost, Mapping)
    console.print(f"Estimated cost: [bold]{cost_text(wf)}[/]")
    if "base" in cost:
        console.print(f"  Base: {cost['base']}", markup=False)
    tips = cost.get("tips")
    if isinstance(tips, Mapping) and any(tips.values()):
        console.print(
            f"  Tips: civitai {tips.get('civitai', 0)}, creators {tips.get('creators', 0)}",
            markup=False,
        )
    transactions = wf.get("transactions")
    if isinstance(transactions, Mapping):
        for item in entries(transactions.get("list")):
            if isinstance(item, Mapping):
                console.print(
                    f"  {item.get('type')} {item.get('amount')} from {item.get('accountType')}",
                    markup=False,
                )
        if transactions.get("insufficientBuzz"):
            console.print("  [red]Not enough Buzz to run this workflow.[/]")
