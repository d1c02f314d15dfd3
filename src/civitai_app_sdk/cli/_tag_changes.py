"""Changing a workflow's tags one request at a time, so that a failure says what it left.

Tags are added before any is removed: a failure part-way can leave a tag that was to go,
never lose one that was to stay (``--clear --add x`` used to remove every tag first, and
a failed add then left none). A tag that goes is removed before an addition only when
the workflow is full (:data:`MAX_TAGS`), to make room. The tags as they were are read
first, so a failure can name them for the user to restore.

UpdateWorkflow (``PUT`` with ``tags``) would replace them in one call, but it is the
call that can charge (``allowMatureContent``), what it does to metadata left out and to
a finished workflow is not documented, and it would overwrite a tag added meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from ._errors import sentence, to_click_error
from ._exit import CliError, ExitCode
from ._output import shorten
from ._shell import command, option

MAX_TAGS: Final = 10
"""The most tags a workflow holds (the API refuses an addition past them)."""
MAX_TAG_LENGTH: Final = 200
"""The longest tag the API takes, in characters."""


def check_added(added: tuple[str, ...]) -> None:
    """Refuse, before any change, a tag to add that the API would refuse (its refusal
    came after the additions before it had been made)."""
    for tag in added:
        if len(tag) > MAX_TAG_LENGTH:
            raise CliError(
                f"tag {shorten(tag, 40)} has {len(tag)} characters; the API takes at most "
                f"{MAX_TAG_LENGTH}: nothing was changed",
                ExitCode.USAGE,
            )


def _check_removable(workflow_id: str, tags: list[str]) -> None:
    """Refuse, before any change, to remove one by one a tag no URL path can name (``..``,
    an empty one: set elsewhere); its removal failed after the additions were made."""
    from civitai_app_sdk.errors import RequestValidationError
    from civitai_app_sdk.orchestrator._params import segment

    for tag in tags:
        try:
            segment(tag, "tag")
        except RequestValidationError:
            clear = command("tags", workflow_id, options=["--clear"])
            raise CliError(
                f"workflow {workflow_id} holds the tag {tag!r}, which cannot be removed on "
                "its own (no URL path can name it); nothing was changed: remove every tag "
                f"with `{clear}`, then add the ones to keep",
                ExitCode.USAGE,
            ) from None


@attrs.define
class TagChanges:
    """The requests a ``tags`` command makes, in order, and how far they got.

    ``clear_all`` is one request removing every tag (``--clear`` with nothing to add);
    otherwise each tag in ``to_remove`` is removed on its own, after every addition (or
    before one, when the workflow is full).
    """

    workflow_id: str
    before: list[str]
    to_add: list[str]
    to_remove: list[str]
    clear_all: bool
    added: list[str] = attrs.field(factory=list)
    removed: list[str] = attrs.field(factory=list)

    @classmethod
    def plan(
        cls,
        workflow_id: str,
        before: list[str],
        added: tuple[str, ...],
        removed: tuple[str, ...],
        clear: bool,
    ) -> TagChanges:
        """The changes asked for: a tag both added and removed (or cleared) stays.

        More than :data:`MAX_TAGS` tags once made, or a tag to remove on its own that
        no URL path can name, is a :class:`CliError` before any change (the API refused
        the addition past them, or the removal failed, after the changes before it).
        """
        to_add = list(dict.fromkeys(added))
        gone = (*(before if clear else ()), *removed)
        to_remove = [tag for tag in dict.fromkeys(gone) if tag not in to_add]
        clear_all = clear and not to_add
        after = {*before, *to_add}.difference(to_remove)
        if len(after) > MAX_TAGS and not set(to_add) <= set(before):
            raise CliError(
                f"workflow {workflow_id} would have {len(after)} tags, and holds at most "
                f"{MAX_TAGS}: remove some with --remove or --clear; nothing was changed",
                ExitCode.USAGE,
            )
        to_remove = [] if clear_all else to_remove
        _check_removable(workflow_id, to_remove)
        return cls(workflow_id, before, to_add, to_remove, clear_all)

    def apply(
        self,
        add: Callable[[str], object],
        remove: Callable[[str], object],
        remove_all: Callable[[], object],
    ) -> None:
        """Make the changes: additions first (a full workflow has a tag that goes removed
        first, to make room), then removals.

        A failure (Ctrl-C included) is a :class:`CliError` with the failure's exit code
        saying what was done, what was not, and the tags before.
        """
        step = ""
        present = set(self.before)
        pending = list(self.to_remove)
        try:
            for tag in self.to_add:
                while tag not in present and len(present) >= MAX_TAGS and pending:
                    gone = pending.pop(0)
                    step = f"remove tag {gone}"
                    remove(gone)
                    self.removed.append(gone)
                    present.discard(gone)
                step = f"add tag {tag}"
                add(tag)
                self.added.append(tag)
                present.add(tag)
            if self.clear_all:
                step = "remove every tag"
                remove_all()
                self.removed.extend(self.before)
            for tag in pending:
                step = f"remove tag {tag}"
                remove(tag)
                self.removed.append(tag)
        except (Exception, KeyboardInterrupt) as exc:
            raise self._failed(exc, step) from None

    def done_text(self) -> str:
        """What was changed, in words (``nothing was changed`` when nothing was)."""
        parts = []
        if self.added:
            parts.append(f"added {', '.join(self.added)}")
        if self.removed:
            parts.append(f"removed {', '.join(self.removed)}")
        return "; ".join(parts) or "nothing was changed"

    def restore_text(self) -> str:
        """The tags before, and the command that puts them back (``--add=TAG``: a tag
        such as ``-x`` or ``--json`` is never read as an option)."""
        adds = (option("--add", tag) for tag in self.before)
        restore = command("tags", self.workflow_id, options=["--clear", *adds])
        if not self.before:
            return f"it had no tags (restore: {restore})"
        return f"its tags were {', '.join(self.before)} (restore: {restore})"

    def report(self) -> dict[str, Any]:
        """The ``--json`` keys saying how far the changes got."""
        return {
            "id": self.workflow_id,
            "tagsBefore": self.before,
            "added": self.added,
            "removed": self.removed,
            "notAdded": [tag for tag in self.to_add if tag not in self.added],
            "notRemoved": [
                tag
                for tag in (self.before if self.clear_all else self.to_remove)
                if tag not in self.removed
            ],
        }

    def _failed(self, exc: Exception | KeyboardInterrupt, step: str) -> BaseException:
        failure: CliError | None
        if isinstance(exc, KeyboardInterrupt):
            failure = CliError("interrupted", ExitCode.INTERRUPTED)
        else:
            failure = exc if isinstance(exc, CliError) else to_click_error(exc)
        if failure is None:  # a bug: its traceback is shown, after what was done
            exc.add_note(f"civitai-orch tags: {self.done_text()}; {self.restore_text()}")
            return exc
        report = self.report()
        pending = []  # the failed step among them: it may or may not have happened
        if report["notAdded"]:
            pending.append(f"add {', '.join(report['notAdded'])}")
        if report["notRemoved"]:
            pending.append(f"remove {', '.join(report['notRemoved'])}")
        message = (
            f"could not {step}: {sentence(failure.format_message())}. "
            f"Done before that: {self.done_text()}. Not done: {'; '.join(pending)}. "
            f"Workflow {self.workflow_id}: {self.restore_text()}"
        )
        return failure.reworded(message, extra={**report, "failed": step})
