"""`--from`/`--to` values: dates are UTC days, datetimes without a zone are UTC."""

from __future__ import annotations

import datetime as dt

import click


def _parse(value: str, *, end_of_day: bool) -> dt.datetime:
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
            return moment.replace(tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (2024-01-20) or datetime (2024-01-20T06:00:00Z)"
        ) from None
    try:
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise click.BadParameter(f"{value!r} is outside the years 1 to 9999 in UTC") from None


def iso_utc(moment: dt.datetime) -> str:
    """``2024-01-20T23:59:59.999Z``: millisecond precision, as the Node CLI sends."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def start_bound(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for ``--from``: a date means its first instant (UTC)."""
    return None if value is None else iso_utc(_parse(value, end_of_day=False))


def end_bound(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for ``--to``: a date means its last millisecond (inclusive)."""
    return None if value is None else iso_utc(_parse(value, end_of_day=True))
