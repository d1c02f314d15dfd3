"""``civitai-orch serve-local``: run the local stand-in orchestrator and OAuth server."""

from __future__ import annotations

import errno
import signal

import click

from civitai_app_sdk.errors import ConfigurationError

from ._options import finite

try:
    from civitai_app_sdk.local import FaultRule, LocalConfig, LocalServer, Timings
    from civitai_app_sdk.local.buzz import DEFAULT_BALANCE
except ConfigurationError as exc:  # the [local] extra is missing: say how to add it
    raise click.ClickException(str(exc)) from None

_API = r"^/(v2|api)/"
LOCAL_TOKEN = "local-dev-token"


def _faults(
    latency: float,
    rate_limit: int,
    retry_after: float,
    server_errors: int,
    html_errors: int,
    drop_submits: int,
) -> tuple[FaultRule, ...]:
    """Fault rules from the command-line counts (each rule is bounded by its count)."""
    rules = [
        FaultRule("lost", drop_submits),  # submits only: an estimate is answered
        FaultRule("429", rate_limit, seconds=retry_after, path=_API),
        FaultRule("500", server_errors, path=_API),
        FaultRule("502-html", html_errors, path=_API),
    ]
    active = [rule for rule in rules if rule.times > 0]
    if latency > 0:
        active.append(FaultRule("latency", 10_000, seconds=latency, path=_API))
    return tuple(active)


@click.command("serve-local")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port (0 picks a free one).",
)
@click.option("--token", default=None, help="Accept only this API token (default: any).")
@click.option(
    "--balance", default=DEFAULT_BALANCE["yellow"], show_default=True, help="Yellow Buzz."
)
@click.option(
    "--step-seconds",
    type=click.FloatRange(0, min_open=True),
    callback=finite,
    default=1.8,
    show_default=True,
    help="How long each step runs.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0, 30),
    callback=finite,
    default=0.0,
    help="Delay every API request by SECONDS (≤30).",
)
@click.option("--rate-limit", default=0, help="Answer the next N API requests with 429.")
@click.option("--retry-after", default=1.0, show_default=True, help="Retry-After of those 429s.")
@click.option("--server-errors", default=0, help="Answer the next N API requests with a 500.")
@click.option("--html-errors", default=0, help="Answer the next N with a 502 HTML page.")
@click.option(
    "--drop-submits",
    default=0,
    help="Create and charge the next N submits, then drop the connection (estimates pass).",
)
@click.option("--fail-step", multiple=True, help="Step name or $type that fails (repeatable).")
@click.option("--auto-consent", is_flag=True, help="Approve sign-ins at once (no consent page).")
def serve_local(
    host: str,
    port: int,
    token: str | None,
    balance: int,
    step_seconds: float,
    latency: float,
    rate_limit: int,
    retry_after: float,
    server_errors: int,
    html_errors: int,
    drop_submits: int,
    fail_step: tuple[str, ...],
    auto_consent: bool,
) -> None:
    """Run a local stand-in for the orchestrator and OAuth server (loopback only).

    Same HTTP as the real services, offline and free: point the SDK's orchestrator
    base URL, OAuth base URL and site URL at the printed address. Stops on Ctrl-C or
    SIGTERM.
    """
    share = step_seconds / 9
    try:
        config = LocalConfig(
            token=token,
            balance={"yellow": balance},
            timings=Timings(share, share, share, step_seconds - 3 * share),
            fail_steps=frozenset(fail_step),
            auto_consent=auto_consent,
            faults=_faults(
                latency, rate_limit, retry_after, server_errors, html_errors, drop_submits
            ),
        )
        server = LocalServer(config, host=host, port=port, log_level="info")
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise click.UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror}): pick another --port, "
                "or --port 0 for any free one",
            ) from None
        raise click.UsageError(str(exc)) from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Local orchestrator and OAuth server on {server.url}", err=True)
    click.echo("Token: " + ("the one given with --token" if token else "any"), err=True)
    click.echo(export_lines(server.url, token_given=token is not None))
    # SIGTERM is a server's normal stop (the console script makes it a Ctrl-C for client
    # commands): uvicorn shuts down, then the process ends as SIGTERM says
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server.serve()


def export_lines(url: str, *, token_given: bool) -> str:
    """The shell lines that point the SDK and ``civitai-orch`` at this server.

    A token given with ``--token`` is not echoed (it may be a real secret); without one,
    the server accepts any token, so a fixed stand-in is printed.
    """
    token = "'<the --token value>'" if token_given else LOCAL_TOKEN
    return (
        "# In another shell, paste this to use the local server:\n"
        f"export CIVITAI_API_URL={url} CIVITAI_API_TOKEN={token}"
    )
