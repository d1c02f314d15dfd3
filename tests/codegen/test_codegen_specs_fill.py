"""`make specs` on a clone without ../shared: commit-pinned downloads, sha256, fallbacks."""

from __future__ import annotations

import http.client
import json
import os
import threading
from pathlib import Path

import pytest

from codegen import __main__ as cli
from codegen import inputs, pipeline

GOOD = b'{"openapi": "3.1.1"}'


def entry(key: str, data: bytes, pinned_url: str | None) -> inputs.LockEntry:
    return inputs.LockEntry(
        key, f"{key}.json", f"https://live.example/{key}", inputs.sha256_of(data), "2026-01-01",
        pinned_url=pinned_url,
    )  # fmt: skip


@pytest.fixture
def specs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "specs"
    target.mkdir()
    monkeypatch.setattr(inputs, "SPECS_DIR", target)
    return target


def test_lock_records_an_immutable_commit_pinned_url_for_each_published_input() -> None:
    entries = inputs.read_lock()
    for key in ("orchestrator", "orchestrator_previous", "app_block_schema"):
        url = entries[key].pinned_url
        assert url is not None
        assert url.startswith("https://raw.githubusercontent.com/civitai/"), key
        commit = url.split("/")[5]
        assert len(commit) == 40, f"{key}: {commit} is not a full commit id"
        assert entries[key].url != url, "the live URL stays in the lock for `make drift`"
    assert entries["discovery"].pinned_url is None
    assert entries["scopes"].pinned_url is None


def test_download_is_used_when_there_is_no_shared_copy(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []

    def fake_download(url: str, timeout: float = 0) -> bytes:
        fetched.append(url)
        return GOOD

    monkeypatch.setattr(inputs, "download", fake_download)
    pinned = entry("orchestrator", GOOD, "https://raw.example/abc/spec.json")
    report = inputs.fill_pinned({"orchestrator": pinned}, tmp_path / "no-shared")
    assert report.downloaded == ["orchestrator.json"]
    assert fetched == ["https://raw.example/abc/spec.json"]
    assert (specs_dir / "orchestrator.json").read_bytes() == GOOD
    again = inputs.fill_pinned({"orchestrator": pinned}, tmp_path / "no-shared")
    assert again.downloaded == []
    assert fetched == ["https://raw.example/abc/spec.json"]


def test_shared_copy_wins_over_the_download(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "orchestrator.json").write_bytes(GOOD)
    monkeypatch.setattr(inputs, "download", lambda url, timeout=0: pytest.fail("downloaded"))
    report = inputs.fill_pinned({"o": entry("orchestrator", GOOD, "https://x.example/a")}, shared)
    assert report.copied == ["orchestrator.json"]


def test_a_download_with_the_wrong_sha256_is_refused_and_not_stored(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "download", lambda url, timeout=0: b'{"tampered": 1}')
    with pytest.raises(inputs.SpecInputError, match="sha256"):
        inputs.fill_pinned({"o": entry("orchestrator", GOOD, "https://x.example/a")}, tmp_path)
    assert not (specs_dir / "orchestrator.json").exists()


def test_unpublished_and_unreachable_inputs_are_reported_not_raised(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str, timeout: float = 0) -> bytes:
        raise OSError("Name or service not known")

    monkeypatch.setattr(inputs, "download", offline)
    entries = {
        "discovery": entry("discovery", b"{}", None),
        "orchestrator": entry("orchestrator", GOOD, "https://x.example/a"),
    }
    report = inputs.fill_pinned(entries, tmp_path)
    assert report.unpublished == ["discovery.json"]
    assert "Name or service not known" in report.unreachable["orchestrator.json"]
    assert inputs.fill_pinned(entries, tmp_path, fetch=False).unreachable == {
        "orchestrator.json": "no shared copy and downloads are off"
    }


def test_make_specs_exits_3_naming_the_fix_unless_optional(
    specs_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lock = tmp_path / "lock.json"
    raw = {"inputs": {"orchestrator": {
        "file": "o.json", "url": "https://live.example/o", "sha256": inputs.sha256_of(GOOD),
        "date": "2026-01-01", "pinned_url": "https://x.example/o"}}}  # fmt: skip
    lock.write_text(json.dumps(raw))
    real_read_lock = inputs.read_lock
    monkeypatch.setattr(inputs, "read_lock", lambda path=lock: real_read_lock(path))
    monkeypatch.setattr(inputs, "SHARED_SPECS", tmp_path / "none")

    def offline(url: str, timeout: float = 0) -> bytes:
        raise OSError("offline")

    monkeypatch.setattr(inputs, "download", offline)
    assert cli.main(["specs"]) == 3
    assert "../shared/specs" in capsys.readouterr().err
    assert cli.main(["specs", "--optional"]) == 0


def test_codegen_check_skips_without_the_spec_and_fails_under_ci(
    specs_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert cli.main(["check"]) == 0
    assert "make specs" in capsys.readouterr().err
    monkeypatch.setenv("CI", "true")
    assert cli.main(["check"]) == 1


def test_without_discovery_and_scope_table_the_committed_scopes_module_is_kept(
    specs_dir: Path,
) -> None:
    entries = inputs.read_lock()
    text, notes = pipeline._scope_module(entries, "# header\n")
    assert text == (pipeline.OUTPUT_DIR / "scopes.py").read_text(encoding="utf-8")
    assert len(notes) == 1
    assert "no published file" in notes[0]
    assert "kept the committed scopes.py" in notes[0]


class _Response:
    """What `urlopen` returns, with a body that may break off."""

    def __init__(self, body: bytes, cut_off: bool = False) -> None:
        self.body, self.cut_off = body, cut_off

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read1(self, limit: int = -1) -> bytes:
        if self.cut_off:
            raise http.client.IncompleteRead(self.body[:10], len(self.body))
        return self.body[:limit] if limit >= 0 else self.body


def test_a_cut_off_download_is_reported_unreachable_not_a_traceback(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # IncompleteRead is no OSError: `make specs` used to die with its traceback.
    monkeypatch.setattr(inputs, "_open", lambda request, timeout=0: _Response(GOOD, True))
    report = inputs.fill_pinned(
        {"o": entry("orchestrator", GOOD, "https://x.example/a")}, tmp_path / "no-shared"
    )
    assert "broke off" in report.unreachable["orchestrator.json"]
    assert not (specs_dir / "orchestrator.json").exists()


def test_an_oversized_download_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "DOWNLOAD_LIMIT", 8)
    monkeypatch.setattr(inputs, "_open", lambda request, timeout=0: _Response(b"x" * 9))
    with pytest.raises(inputs.SpecInputError, match="more than 8 bytes"):
        inputs.download("https://x.example/a")


@pytest.mark.parametrize(
    "bad", [b"<html>Service Unavailable</html>", b'{"openapi": "3.1.1", "pa', b"[1]"]
)
def test_live_fill_adopts_nothing_unless_every_input_is_a_json_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: bytes
) -> None:
    # A maintenance page or a cut-off body used to be written to specs/ and pinned in the
    # lock, and the other inputs before it were already replaced.
    lock_file = tmp_path / "lock.json"
    lock_file.write_text(inputs.LOCK_PATH.read_text())
    monkeypatch.setattr(inputs, "SPECS_DIR", tmp_path)
    entries = inputs.read_lock(lock_file)
    monkeypatch.setattr(
        inputs,
        "download",
        lambda url, timeout=0: bad if url == entries["app_block_schema"].url else GOOD,
    )
    with pytest.raises(inputs.SpecInputError, match="nothing was changed"):
        inputs.fill_from_live(entries, lock_file)
    assert lock_file.read_text() == inputs.LOCK_PATH.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock.json"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('<<<<<<< HEAD\n{"inputs": {}}\n', "cannot read"),
        ('{"inputs": {"orchestrator": {"file": "x.json"}}}', "missing or wrong 'url'"),
        ('{"entries": {}}', "missing or wrong 'inputs'"),
    ],
)
def test_an_unreadable_lock_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    text: str, reason: str,
) -> None:  # fmt: skip
    # A lock with merge-conflict markers ended every codegen command (and `make test`,
    # which runs `codegen specs --optional`) in a JSONDecodeError traceback.
    lock_file = tmp_path / "lock.json"
    lock_file.write_text(text, encoding="utf-8")
    monkeypatch.setattr(inputs, "LOCK_PATH", lock_file)
    monkeypatch.setattr(inputs.read_lock, "__defaults__", (lock_file,))
    assert cli.main(["specs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert reason in err


@pytest.mark.parametrize("where", ["shared", "specs"])
@pytest.mark.parametrize(
    ("kind", "reason"), [("directory", "Is a directory"), ("mode 000", "Permission denied")]
)
def test_an_unreadable_spec_file_is_one_error_line(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], where: str, kind: str, reason: str,
) -> None:  # fmt: skip
    # A spec file that is there but cannot be read ended `make specs` in a bare
    # PermissionError or IsADirectoryError traceback (or, for a shared directory, was taken
    # for a missing file and downloaded). A missing file still falls back to the download.
    lock = tmp_path / "lock.json"
    raw = {"inputs": {"orchestrator": {
        "file": "o.json", "url": "https://live.example/o", "sha256": inputs.sha256_of(GOOD),
        "date": "2026-01-01", "pinned_url": "https://x.example/o"}}}  # fmt: skip
    lock.write_text(json.dumps(raw))
    monkeypatch.setattr(inputs.read_lock, "__defaults__", (lock,))
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "o.json").write_bytes(GOOD)
    monkeypatch.setattr(inputs.fill_pinned, "__defaults__", (shared,))
    monkeypatch.setattr(inputs, "download", lambda url, timeout=0: pytest.fail("downloaded"))
    broken = shared / "o.json" if where == "shared" else specs_dir / "o.json"
    if kind == "directory":
        broken.unlink(missing_ok=True)
        broken.mkdir()
    else:  # chmod 000 would not stop a test run as root
        broken.write_bytes(GOOD)
        read_bytes = Path.read_bytes

        def denied(path: Path) -> bytes:
            if path == broken:
                raise PermissionError(13, "Permission denied", str(path))
            return read_bytes(path)

        monkeypatch.setattr(Path, "read_bytes", denied)
    checked = [["check"]] if where == "specs" else []  # the check reads only specs/
    for argv in (["specs"], ["specs", "--optional"], *checked):
        assert cli.main(argv) == 2
        assert capsys.readouterr().err == (
            f"error: cannot read {broken}: {reason}; make it a readable file or remove it\n"
        )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_spec_file_that_is_a_pipe_is_one_error_not_a_wait(tmp_path: Path) -> None:
    # a named pipe (or /dev/zero, /dev/stdin linked there) was read as a spec file: the
    # read waited for a writer that never came, where `is_file()` had called it missing
    fifo = tmp_path / "o.json"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(inputs.read_input(fifo))
        except inputs.SpecInputError as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # let it go: a writer that closes at once ends its read
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
        pytest.fail("the read of a named pipe waited for a writer")
    (error,) = outcome
    assert isinstance(error, inputs.SpecInputError)
    assert str(error) == (
        f"cannot read {fifo}: not a regular file; make it a readable file or remove it"
    )


def test_the_stored_copy_is_the_checked_bytes(
    specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shared file was read to check its sha256, then copied by a second read: a file
    # replaced in between was stored unchecked.
    shared = tmp_path / "shared"
    shared.mkdir()
    source = shared / "orchestrator.json"
    source.write_bytes(GOOD)
    checked = inputs._verify

    def check_then_swap(entry: inputs.LockEntry, data: bytes, origin: object) -> None:
        checked(entry, data, origin)  # type: ignore[arg-type]
        source.write_bytes(b'{"swapped": true}')

    monkeypatch.setattr(inputs, "_verify", check_then_swap)
    report = inputs.fill_pinned({"o": entry("orchestrator", GOOD, None)}, shared)
    assert report.copied == ["orchestrator.json"]
    assert (specs_dir / "orchestrator.json").read_bytes() == GOOD
    assert sorted(p.name for p in specs_dir.iterdir()) == ["orchestrator.json"]


def test_two_runs_storing_the_same_spec_at_once_both_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both runs wrote to the same `.orchestrator.partial.json`: the first one's rename
    # took the second's half-written file, and the second's rename then failed.
    target = tmp_path / "orchestrator.json"
    real_replace = inputs.os.replace
    interleaved = []

    def replace_after_the_other_run(src: str, dst: Path) -> None:
        if not interleaved:
            interleaved.append(src)
            inputs.store(target, GOOD)  # the other run, between our write and our rename
        real_replace(src, dst)

    monkeypatch.setattr(inputs.os, "replace", replace_after_the_other_run)
    inputs.store(target, GOOD)
    assert interleaved
    assert target.read_bytes() == GOOD
    assert [p.name for p in tmp_path.iterdir()] == ["orchestrator.json"]
