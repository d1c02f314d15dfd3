"""Pinned inputs: read `specs/lock.json`, verify sha256, fill and load the documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import os
import stat
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"
LOCK_PATH = SPECS_DIR / "lock.json"
SHARED_SPECS = Path(os.environ.get("CIVITAI_SHARED_SPECS", ROOT.parent / "shared" / "specs"))
DOWNLOAD_TIMEOUT = 30.0
DOWNLOAD_LIMIT = 64 * 1024 * 1024
"""Largest body `download` reads (the orchestrator spec is about 1 MB)."""
_CHUNK = 64 * 1024


class SpecInputError(RuntimeError):
    """A pinned input is missing, unreadable or differs from its lock entry."""


@dataclass(frozen=True)
class LockEntry:
    """One pinned input: where it comes from and what its bytes must hash to."""

    key: str
    file: str
    url: str
    sha256: str
    date: str
    live: bool = True
    pinned_url: str | None = None

    @property
    def path(self) -> Path:
        """The git-ignored local copy inside `specs/`."""
        return SPECS_DIR / self.file


def sha256_of(data: bytes) -> str:
    """Hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def read_lock(path: Path = LOCK_PATH) -> dict[str, LockEntry]:
    """Parse the lock file into entries keyed by input name (`SpecInputError` if it is
    unreadable: merge-conflict markers, a missing field)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = {
            key: LockEntry(
                key=key,
                file=item["file"],
                url=item["url"],
                sha256=item["sha256"],
                date=item["date"],
                live=item.get("live", True),
                pinned_url=item.get("pinned_url"),
            )
            for key, item in raw["inputs"].items()
        }
    except (OSError, ValueError) as error:
        raise SpecInputError(f"cannot read {path}: {error}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise SpecInputError(f"{path} is not a lock file: missing or wrong {error}") from None
    for entry in entries.values():
        # `make specs` writes each input to specs/<file>: a name with a folder in it
        # ("../../x") would write outside specs/, and "lock.json" over the lock.
        if (
            not isinstance(entry.file, str)
            or Path(entry.file).name != entry.file
            or entry.file.startswith(".")
            or entry.file == LOCK_PATH.name
        ):
            raise SpecInputError(
                f"{path}: {entry.key}.file must be a plain file name, not {entry.file!r}"
            )
    return entries


_UNREADABLE = "make it a readable file or remove it"


def read_input(path: Path) -> bytes | None:
    """The bytes of `path`, or None when there is no such file; a file that is there but
    cannot be read (permission denied, a directory, a named pipe or a device, whose read
    could wait or never end) is a `SpecInputError` naming it."""
    try:
        mode = path.stat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a directory: its own reason
            raise SpecInputError(f"cannot read {path}: not a regular file; {_UNREADABLE}")
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise SpecInputError(
            f"cannot read {path}: {error.strerror or error}; {_UNREADABLE}"
        ) from None


def _verify(entry: LockEntry, data: bytes, origin: Path | str) -> None:
    actual = sha256_of(data)
    if actual != entry.sha256:
        raise SpecInputError(
            f"{entry.file} from {origin} has sha256 {actual}, but specs/lock.json pins "
            f"{entry.sha256}. Restore the pinned file, or run `make specs LIVE=1` to adopt "
            "a new version deliberately."
        )


def fill_from_shared(entries: dict[str, LockEntry], shared: Path = SHARED_SPECS) -> list[str]:
    """Copy each pinned input from `shared` into `specs/`, verifying its sha256."""
    done: list[str] = []
    for entry in entries.values():
        if is_present(entry):
            continue
        source = shared / entry.file
        data = read_input(source)
        if data is None:
            raise SpecInputError(
                f"{entry.file} is missing: expected it at {source}. Put the shared specs "
                "beside the project (../shared/specs), set CIVITAI_SHARED_SPECS, or run "
                "`make specs LIVE=1` with network access."
            )
        _verify(entry, data, source)
        store(entry.path, data)
        done.append(entry.file)
    return done


def store(path: Path, data: bytes) -> None:
    """Write `data` (the bytes that were checked, not a second read of their source) to
    `path` whole or not at all: an interrupted run leaves no partial file."""
    # A name of its own, so two runs at once cannot move each other's half-written file;
    # git-ignored like the rest of specs/.
    fd, partial = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def is_present(entry: LockEntry) -> bool:
    """Whether `specs/` holds the pinned bytes of `entry` (see `read_input`)."""
    data = read_input(entry.path)
    return data is not None and sha256_of(data) == entry.sha256


@dataclass
class FillReport:
    """What `fill_pinned` did for each input, by file name."""

    copied: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)


def fill_pinned(
    entries: dict[str, LockEntry], shared: Path = SHARED_SPECS, *, fetch: bool = True
) -> FillReport:
    """Fill `specs/` from `shared`, else (with `fetch`) from each entry's commit-pinned URL.

    Every file is checked against its sha256 before it is stored. An input with no
    published file (no `pinned_url`) and no shared copy is listed as unpublished; a
    download that fails is listed as unreachable. A wrong sha256 always raises, and so does
    a copy that is there but cannot be read (see `read_input`): it is not a missing one.
    """
    report = FillReport()
    for entry in entries.values():
        if is_present(entry):
            continue
        source = shared / entry.file
        data = read_input(source)
        if data is not None:
            _verify(entry, data, source)
            store(entry.path, data)
            report.copied.append(entry.file)
        elif entry.pinned_url is None:
            report.unpublished.append(entry.file)
        elif not fetch:
            report.unreachable[entry.file] = "no shared copy and downloads are off"
        else:
            try:
                data = download(entry.pinned_url)
            except OSError as error:
                report.unreachable[entry.file] = f"cannot download {entry.pinned_url}: {error}"
                continue
            _verify(entry, data, entry.pinned_url)
            store(entry.path, data)
            report.downloaded.append(entry.file)
    return report


class _HttpsRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another https URL."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        """The next request, or `SpecInputError` when `newurl` is not https."""
        if not newurl.startswith("https://"):
            fp.close()
            raise SpecInputError(
                f"{req.full_url} redirected ({code}) to {newurl}, which is not https; refusing it"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open(request: urllib.request.Request | str, timeout: float) -> Any:
    """`urlopen`, but a redirect may not leave https (a spec sent in the clear may have
    been changed on the way, and `make specs LIVE=1` would pin and generate from it)."""
    return urllib.request.build_opener(_HttpsRedirects).open(request, timeout=timeout)


def download(url: str, timeout: float = DOWNLOAD_TIMEOUT) -> bytes:
    """Fetch `url` (https only) and return its body, all within `timeout` seconds.

    Every transport failure is an `OSError`, a cut-off body (`IncompleteRead`) and a body
    still arriving at the deadline (`TimeoutError`) included; a body over `DOWNLOAD_LIMIT`
    is a `SpecInputError`, and so is a redirect to a URL that is not https.
    """
    if not url.startswith("https://"):
        raise SpecInputError(f"refusing to download from a non-https URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "civitai-app-sdk-codegen"})  # noqa: S310
    # The socket timeout bounds each read; a server sending a byte now and then would
    # still hold `make specs` or the drift job for hours without this deadline.
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        with _open(request, timeout=timeout) as response:
            # read1: what has arrived (read(n) would wait for all n bytes, a byte at a time)
            while chunk := response.read1(min(_CHUNK, DOWNLOAD_LIMIT + 1 - len(body))):
                body += chunk
                if len(body) > DOWNLOAD_LIMIT:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} was still sending after {timeout:g} s")
    except http.client.HTTPException as error:
        raise OSError(f"the connection broke off ({error!r})") from error
    if len(body) > DOWNLOAD_LIMIT:
        raise SpecInputError(f"{url} sent more than {DOWNLOAD_LIMIT} bytes; refusing it")
    return bytes(body)


def superseded_path(entry: LockEntry, sha256: str | None = None) -> Path:
    """Where `fill_from_live` keeps the copy it replaces (for the changelog's drift report)."""
    digest = sha256 or entry.sha256
    return SPECS_DIR / f"{Path(entry.file).stem}.{digest[:12]}.json"


def fill_from_live(entries: dict[str, LockEntry], path: Path = LOCK_PATH) -> list[str]:
    """Download every live input, store it in `specs/` and rewrite the lock.

    Nothing is written unless every download succeeds and is a JSON object. Inputs marked
    `"live": false` (derived or historical documents) keep their pins. A pinned copy that a
    new version replaces is kept as `superseded_path(entry)`, and the entry loses its
    `pinned_url` (a copy of the old version) until one for the new version is added.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    today = dt.date.today().isoformat()
    fetched: dict[str, bytes] = {}
    for entry in entries.values():
        if entry.live:
            fetched[entry.key] = _download_json(entry.url)
    changed: list[str] = []
    for key, data in fetched.items():
        entry = entries[key]
        digest = sha256_of(data)
        if digest != entry.sha256 and is_present(entry):
            entry.path.replace(superseded_path(entry))
        store(entry.path, data)
        if digest != entry.sha256:
            raw["inputs"][entry.key].update(sha256=digest, date=today)
            # It names a copy of the previous version: left in place, every clone without
            # ../shared would download that copy and refuse it (sha256), `make test` too.
            raw["inputs"][entry.key].pop("pinned_url", None)
            changed.append(entry.file)
    path.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return changed


def _download_json(url: str) -> bytes:
    """The body at `url`, which must be a JSON object (an error page or a cut-off body
    must not become a pinned input)."""
    try:
        data = download(url)
    except OSError as error:
        raise SpecInputError(f"cannot download {url}: {error}; nothing was changed") from error
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise SpecInputError(f"{url} did not send JSON ({error}); nothing was changed") from None
    if not isinstance(document, dict):
        raise SpecInputError(f"{url} did not send a JSON object; nothing was changed")
    return data


def load_json(entry: LockEntry) -> Any:
    """Load a pinned input from `specs/`, verifying it against the lock."""
    data = read_input(entry.path)
    if data is None:
        raise SpecInputError(f"{entry.path} is missing: run `make specs` first.")
    _verify(entry, data, entry.path)
    return json.loads(data)
