"""`civitai-orch delete ID [--yes]` and `tags ID [--add T] [--remove T] [--clear]`."""

from __future__ import annotations

import itertools

import click

from civitai_app_sdk.orchestrator._params import segment

from ._confirm import ask_first
from ._errors import sentence, to_click_error
from ._exit import CliError, ExitCode
from ._options import api_options, json_option
from ._output import emit_json, printable, stdout
from ._session import open_client
from ._tag_changes import TagChanges, check_added


@click.command()
@click.argument("workflow_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_options
@json_option
def delete(
    workflow_id: str, yes: bool, token: str | None, api_url: str | None, as_json: bool
) -> None:
    """Delete WORKFLOW_ID for good (unstarted work may be refunded). Asks first."""
    if not workflow_id.strip():
        raise CliError("give the id of the workflow to delete", ExitCode.USAGE)
    segment(workflow_id, "workflow id")  # an id the SDK refuses is refused before asking
    ask_first(
        yes,
        question=f"Delete workflow {workflow_id}? This cannot be undone",
        stakes="deleting cannot be undone",
        declined="Not deleted; nothing was changed.",
    )
    open_client(token, api_url).delete(workflow_id)
    if as_json:
        emit_json({"id": workflow_id, "deleted": True})
    else:
        stdout().print(f"Deleted {printable(workflow_id)}.", markup=False)


class _TagsCommand(click.Command):
    """``tags``, whose ``--add``/``--remove`` never take one of its own options as TAG:
    ``--add --json`` is a forgotten TAG, not a tag named ``--json`` (``--add=--json`` is)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse ``--add``/``--remove`` followed by an option name, then parse."""
        names = {name for param in self.get_params(ctx) for name in param.opts}
        words = args[: args.index("--")] if "--" in args else args
        for flag, value in itertools.pairwise(words):
            if flag in ("--add", "--remove") and value in names:
                raise click.UsageError(
                    f"{flag} needs a TAG, not {value}; for a tag named {value}, "
                    f"write {flag}={value}",
                    ctx,
                )
        return super().parse_args(ctx, args)


@click.command(cls=_TagsCommand)
@click.argument("workflow_id")
@click.option("--add", "added", multiple=True, metavar="TAG", help="Add TAG (repeatable).")
@click.option("--remove", "removed", multiple=True, metavar="TAG", help="Remove TAG (repeatable).")
@click.option("--clear", is_flag=True, help="Remove every tag not added by --add.")
@api_options
@json_option
def tags(
    workflow_id: str,
    added: tuple[str, ...],
    removed: tuple[str, ...],
    clear: bool,
    token: str | None,
    api_url: str | None,
    as_json: bool,
) -> None:
    """Show WORKFLOW_ID's tags, after adding (--add) and removing (--remove, --clear) as asked.

    Tags are added first, then the others removed, so a failure never loses a tag that
    was to stay: `--clear --add x` adds x, then removes each other tag (on a workflow
    full with 10 tags, one that goes is removed first to make room). A tag both
    added and removed stays; more than 10 tags once made, or a tag longer than 200
    characters, is refused before any change. When a change fails, the error says what
    was done, what was not, and the tags before (with the command that restores them);
    the exit code is the failure's.
    """
    segment(workflow_id, "workflow id")  # every id and tag is checked before any change
    for tag in (*removed, *added):
        segment(tag, "tag")
    check_added(added)
    client = open_client(token, api_url)
    before = list(client.get(workflow_id).tags or [])
    if not (added or removed or clear):
        _show_tags(workflow_id, before, as_json)
        return
    changes = TagChanges.plan(workflow_id, before, added, removed, clear)
    changes.apply(
        add=lambda tag: client.add_tag(workflow_id, tag),
        remove=lambda tag: client.remove_tag(workflow_id, tag),
        remove_all=lambda: client.remove_all_tags(workflow_id),
    )
    try:
        current = list(client.get(workflow_id).tags or [])
    except KeyboardInterrupt:  # the changes were made: say so, as for a failure
        raise CliError(
            f"the tags were changed ({changes.done_text()}), but reading them back was interrupted",
            ExitCode.INTERRUPTED,
            extra=changes.report(),
        ) from None
    except Exception as exc:
        failure = to_click_error(exc)
        if failure is None:
            raise
        raise failure.reworded(
            f"the tags were changed ({changes.done_text()}), but reading them back failed: "
            f"{sentence(failure.format_message())}",
            extra=changes.report(),
        ) from None
    _show_tags(workflow_id, current, as_json)


def _show_tags(workflow_id: str, current: list[str], as_json: bool) -> None:
    if as_json:
        emit_json({"id": workflow_id, "tags": current})
    else:
        stdout().print(", ".join(current) or "(no tags)", markup=False)
