"""Every orchestration command through the CLI runner against respx (no network)."""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from civitai_app_sdk.local.hostile import HostileServer

API = "https://orch.test"
WF: dict[str, Any] = {
    "id": "wf-1",
    "status": "succeeded",
    "createdAt": "2026-01-21T22:21:26.3321234Z",
    "cost": {"base": 10, "total": 12, "tips": {"civitai": 1, "creators": 1}},
    "tags": ["project:x"],
    "steps": [
        {
            "$type": "textToImage",
            "name": "$0",
            "status": "succeeded",
            "input": {
                "model": "urn:air:sdxl:checkpoint:civitai:1@2",
                "prompt": "a red cat",
                "cfgScale": 7,
                "negativePrompt": "dog",
            },
            "jobs": [{"id": "job-1", "status": "succeeded", "cost": 1}],
            "output": {
                "images": [
                    {
                        "type": "image",
                        "id": "IMGA.jpeg",
                        "available": True,
                        "url": "https://cdn.test/IMGA.jpeg?sig=x",
                        "width": 512,
                        "height": 512,
                    },
                    {"type": "image", "id": "IMGB.jpeg", "available": False},
                ]
            },
        },
        {
            "$type": "videoGen",
            "name": "vid",
            "status": "succeeded",
            "input": {"engine": "kling", "prompt": "a dog"},
            "output": {
                "video": {
                    "type": "video",
                    "id": "VIDB.mp4",
                    "available": True,
                    "url": "https://cdn.test/VIDB.mp4?sig=y",
                }
            },
        },
    ],
}


def _wf(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(WF) | changes


@pytest.fixture
def api(authed):
    with respx.mock(assert_all_called=False) as mock:
        yield mock


# --- workflows ---------------------------------------------------------------------------


def test_workflows_sends_every_filter_and_prints_next_cursor(authed, api) -> None:
    route = api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "CUR2", "items": [WF]})
    result = authed(
        "workflows",
        "--tag=user:1",
        "--tag",
        "project:x",
        "--query=portrait",
        "--excludeFailed",
        "--oldest",
        "--take=5",
        "--cursor=CUR1",
        "--from=2024-01-20",
        "--to=2024-01-20",
        "--nsfw",
    )
    assert result.exit_code == 0, result.stderr
    params = route.calls.last.request.url.params
    assert params.get_list("tags") == ["user:1", "project:x"]
    assert params["query"] == "portrait"
    assert params["excludeFailed"] == "true"
    assert params["ascending"] == "true"
    assert params["take"] == "5"
    assert params["cursor"] == "CUR1"
    assert params["fromDate"] == "2024-01-20T00:00:00.000Z"
    assert params["toDate"] == "2024-01-20T23:59:59.999Z"
    assert params["hideMatureContent"] == "false"
    assert route.calls.last.request.headers["authorization"] == "Bearer tok-123"
    assert "wf-1" in result.stdout
    assert "a red cat" in result.stdout
    hint = result.stderr.strip().splitlines()[-1]
    assert hint.startswith("Next page: civitai-orch workflows")
    assert "--cursor=CUR2" in hint
    assert "--cursor=CUR1" not in hint
    assert "--tag=user:1 --tag=project:x" in hint
    assert "tok-123" not in hint


def test_workflows_json_is_one_document(authed, api) -> None:
    api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "N", "items": [WF]})
    result = authed("workflows", "--json")
    data = json.loads(result.stdout)
    assert data["next"] == "N"
    assert [w["id"] for w in data["items"]] == ["wf-1"]


def test_workflows_defaults_and_status_filter(authed, api) -> None:
    failed = _wf(id="wf-2", status="failed")
    route = api.get(f"{API}/v2/consumer/workflows").respond(
        json={"next": "", "items": [WF, failed]}
    )
    result = authed("workflows", "--status", "failed", "--json")
    params = route.calls.last.request.url.params
    assert params["take"] == "20"
    assert "excludeFailed" not in params
    assert "hideMatureContent" not in params
    assert [w["id"] for w in json.loads(result.stdout)["items"]] == ["wf-2"]
    authed("workflows", "--status=succeeded")
    assert route.calls.last.request.url.params["excludeFailed"] == "true"


@pytest.mark.parametrize("cursor", [5, {"after": "x"}, ["c"], True])
def test_a_next_cursor_that_is_not_text_is_no_cursor(authed, api, cursor: object) -> None:
    """A page whose ``next`` is not a string crashed the next-page hint (shlex.quote of
    an int: TypeError traceback); --json passed it on as a cursor to send back."""
    api.get(f"{API}/v2/consumer/workflows").respond(json={"next": cursor, "items": [WF]})
    result = authed("workflows")
    assert result.exit_code == 0, result.stderr
    assert "Next page" not in result.stderr
    as_json = authed("workflows", "--json")
    assert json.loads(as_json.stdout)["next"] is None


def test_workflows_empty_and_bad_options(authed, api) -> None:
    api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": []})
    result = authed("workflows")
    assert "No workflows found." in result.stdout
    assert "Next page" not in result.stderr
    assert authed("workflows", "--take=abc").exit_code == 2
    assert authed("workflows", "--take=0").exit_code == 2
    bad = authed("workflows", "--from=yesterday")
    assert bad.exit_code == 2
    assert "not a date" in bad.stderr


def test_zoned_datetime_is_converted_to_utc(authed, api) -> None:
    route = api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": []})
    authed("workflows", "--from=2024-01-20T06:00:00+02:00", "--to=2024-01-20T12:00:00")
    params = route.calls.last.request.url.params
    assert params["fromDate"] == "2024-01-20T04:00:00.000Z"
    assert params["toDate"] == "2024-01-20T12:00:00.000Z"


@pytest.mark.parametrize(
    "option", ["--from=0001-01-01T00:00:00+01:00", "--to=9999-12-31T23:59:59-01:00"]
)
def test_a_zoned_datetime_outside_the_utc_calendar_is_a_usage_error(
    authed, api, option: str
) -> None:
    """In UTC these fall before year 1 or after 9999: an OverflowError traceback."""
    route = api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": []})
    result = authed("workflows", option)
    assert result.exit_code == 2
    assert "outside the years 1 to 9999" in result.stderr
    assert not route.called


# --- user (v1 manager) -------------------------------------------------------------------


def test_user_uses_manager_endpoint(authed, api) -> None:
    route = api.get(f"{API}/v1/manager/workflows").respond(json=[WF])
    result = authed(
        "user",
        "12345",
        "--take=3",
        "--tag=a",
        "--query=q",
        "--excludeFailed",
        "--oldest",
        "--cursor=C",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    params = route.calls.last.request.url.params
    assert dict(params) == {
        "UserId": "12345",
        "Take": "3",
        "Tags": "a",
        "Query": "q",
        "Cursor": "C",
        "ExcludeFailed": "true",
        "Inverse": "true",
    }
    assert json.loads(result.stdout)["items"][0]["id"] == "wf-1"


def test_user_refused_says_manager_only(authed, api) -> None:
    api.get(f"{API}/v1/manager/workflows").respond(403, json={"title": "Forbidden"})
    result = authed("user", "12345")
    assert result.exit_code == 4
    assert "Manager-role token" in result.stderr


# --- workflow / step ---------------------------------------------------------------------


def test_workflow_summary_and_json(authed, api) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    result = authed("workflow", "wf-1")
    assert result.exit_code == 0, result.stderr
    for text in ("succeeded", "textToImage", "videoGen", "a red cat", "12 Buzz", "VIDB.mp4"):
        assert text in result.stdout
    data = json.loads(authed("workflow", "wf-1", "--json").stdout)
    assert data["id"] == "wf-1"
    assert data["steps"][1]["$type"] == "videoGen"
    assert data["steps"][0]["input"] == WF["steps"][0]["input"]  # no defaults invented
    assert "clipSkip" not in json.dumps(data)


@pytest.mark.parametrize(("status", "hinted"), [("processing", True), ("expired", False)])
def test_workflow_suggests_wait_only_while_running(authed, api, status: str, hinted: bool) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=_wf(status=status))
    result = authed("workflow", "wf-1")
    assert result.exit_code == 0, result.stderr
    assert ("--wait` follows it" in result.stderr) is hinted


def test_workflow_wait_follows_until_done(authed, api) -> None:
    running = _wf(status="processing")
    route = api.get(f"{API}/v2/consumer/workflows/wf-1").mock(
        side_effect=[httpx.Response(202, json=running), httpx.Response(200, json=WF)]
    )
    result = authed("workflow", "wf-1", "--wait", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert int(route.calls[0].request.url.params["wait"]) > 0


def test_workflow_wait_failed_exits_10(authed, api) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=_wf(status="failed"))
    result = authed("workflow", "wf-1", "--wait")
    assert result.exit_code == 10
    assert "ended failed" in result.stderr


def test_step_encodes_name(authed, api) -> None:
    route = api.get(f"{API}/v2/consumer/workflows/wf-1/steps/%240").respond(json=WF["steps"][0])
    result = authed("step", "wf-1", "$0")
    assert result.exit_code == 0, result.stderr
    assert route.called
    assert "textToImage" in result.stdout
    assert "job-1" in result.stdout
    assert json.loads(authed("step", "wf-1", "$0", "--json").stdout)["name"] == "$0"


# --- job (v1) ----------------------------------------------------------------------------

JOB = {
    "job": {
        "id": "job-1",
        "type": "TextToImageV2",
        "properties": {"workflowId": "wf-1"},
        "params": {"prompt": "a red cat"},
        "promptClassificationResult": {"sexual": True},
        "lastEvent": {
            "type": "Succeeded",
            "provider": "ValdiAI",
            "context": {"hive_csam_score": 0, "other": "x" * 100},
        },
    },
    "cost": 3,
    "result": [{"blobKey": "IMGA.jpeg", "available": True}],
}


def test_job_summary_shows_zero_scores(authed, api) -> None:
    route = api.get(f"{API}/v1/consumer/jobs/job-1").respond(json=JOB)
    result = authed("job", "job-1")
    assert result.exit_code == 0, result.stderr
    assert route.calls.last.request.url.params["detailed"] == "true"
    for text in (
        "TextToImageV2",
        "wf-1",
        "Prompt Classification: sexual",
        "IMGA.jpeg (available: True)",
        "ValdiAI",
        "** hive_csam_score: 0",
    ):
        assert text in result.stdout
    assert json.loads(authed("job", "job-1", "--raw").stdout) == JOB
    assert json.loads(authed("job", "job-1", "--json").stdout) == JOB


# --- results / blob ----------------------------------------------------------------------


def test_results_lists_every_kind(authed, api) -> None:
    route = api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    data = json.loads(authed("results", "wf-1", "--json").stdout)
    assert route.calls.last.request.url.params["hideMatureContent"] == "true"
    assert [(o["step"], o["kind"], o["blobId"]) for o in data["outputs"]] == [
        ("$0", "image", "IMGA.jpeg"),
        ("$0", "image", "IMGB.jpeg"),
        ("vid", "video", "VIDB.mp4"),
    ]
    assert data["downloads"] is None
    authed("results", "wf-1", "--nsfw")
    assert route.calls.last.request.url.params["hideMatureContent"] == "false"


def test_step_media_shapes_and_duplicates() -> None:
    from civitai_app_sdk.cli._media import step_media

    image = {"type": "image", "id": "A.png", "url": "https://cdn.test/A"}
    unnamed = {"type": "image", "id": ""}
    step = {"name": "s", "output": {"images": [image, unnamed, image, unnamed]}}
    assert [(m.kind, m.blob_id) for m in step_media(step)] == [("image", "A.png"), ("image", None)]
    transcode = {"name": "t", "output": {"id": "V.mp4", "url": "https://cdn.test/V"}}
    assert [(m.kind, m.blob_id) for m in step_media(transcode)] == [("file", "V.mp4")]
    archive = {"name": "z", "output": {"url": "https://cdn.test/Z.zip"}}
    assert [(m.kind, m.url) for m in step_media(archive)] == [("archive", "https://cdn.test/Z.zip")]


def test_results_download_names_and_extensions(authed, api, cli_home: Path) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    image = api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"webp-bytes", headers={"content-type": "image/webp"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"mp4-bytes", headers={"content-type": "video/mp4"}
    )
    out = cli_home / "work" / "out"
    result = authed("results", "wf-1", "--download", "--dir", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    assert "authorization" not in image.calls.last.request.headers
    assert sorted(p.name for p in out.iterdir()) == ["wf-1_0_0.webp", "wf-1_vid_0.mp4"]
    reports = json.loads(result.stdout)["downloads"]
    assert [r["status"] for r in reports] == ["saved", "skipped", "saved"]
    assert "add --nsfw" in reports[1]["reason"]
    again = authed("results", "wf-1", "--download", "--dir", str(out), "--json")
    assert again.exit_code == 0
    # a re-run finds the identical files it saved before instead of writing -1 copies
    assert sorted(p.name for p in out.iterdir()) == ["wf-1_0_0.webp", "wf-1_vid_0.mp4"]
    paths = [r.get("path") for r in json.loads(again.stdout)["downloads"]]
    assert paths == [str(out / "wf-1_0_0.webp"), None, str(out / "wf-1_vid_0.mp4")]
    image.respond(content=b"other-bytes", headers={"content-type": "image/webp"})
    assert authed("results", "wf-1", "--download", "--dir", str(out)).exit_code == 0
    assert (out / "wf-1_0_0-1.webp").read_bytes() == b"other-bytes"  # never overwritten
    assert (out / "wf-1_0_0.webp").read_bytes() == b"webp-bytes"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_downloads_respect_the_umask(authed, api, cli_home: Path, umask: int) -> None:
    import os
    import stat

    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"a", headers={"content-type": "image/png"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"v", headers={"content-type": "video/mp4"}
    )
    api.get(f"{API}/v2/consumer/blobs/IMGB.jpeg").respond(
        content=b"b", headers={"content-type": "image/jpeg"}
    )
    out = cli_home / "out"
    old = os.umask(umask)
    try:
        assert authed("results", "wf-1", "--download", f"--dir={out}").exit_code == 0
        assert authed("blob", "IMGB.jpeg", "--download", f"--dir={out}").exit_code == 0
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert len(modes) == 3
    assert set(modes.values()) == {0o666 & ~umask}, modes


def test_results_downloads_share_one_http_client(
    authed, api, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civitai_app_sdk.cli import _download

    made: list[Any] = []

    class Recorded(_download.SyncTransport):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(_download, "SyncTransport", Recorded)
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"a", headers={"content-type": "image/png"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"b", headers={"content-type": "video/mp4"}
    )
    result = authed("results", "wf-1", "--download", f"--dir={cli_home / 'out'}", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["status"] for r in json.loads(result.stdout)["downloads"]].count("saved") == 2
    assert len(made) == 1
    assert made[0].settings.timeout is _download.DOWNLOAD_TIMEOUT


def test_results_expired_url_falls_back_to_blob_endpoint(authed, api, cli_home: Path) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(403)
    api.get(f"{API}/v2/consumer/blobs/IMGA.jpeg").respond(
        content=b"jpg", headers={"content-type": "image/jpeg"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(500)
    out = cli_home / "dl"
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 11
    reports = json.loads(result.stdout)["downloads"]
    assert reports[0]["status"] == "saved"
    assert reports[0]["path"].endswith("wf-1_0_0.jpeg")
    assert reports[2] == {
        "step": "vid",
        "kind": "video",
        "blobId": "VIDB.mp4",
        "status": "failed",
        "reason": "HTTP 500",
    }
    assert "1 download(s) failed" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["wf-1_0_0.jpeg"]


def _first_download_fails(authed: Any, cli_home: Path) -> tuple[dict[str, Any], Path, Any]:
    """``results wf-1 --download --json`` in which only the first image's download fails
    (exit 11, the second image skipped, the video saved): that report, the download
    folder and the command's result."""
    out = cli_home / "dl"
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 11, result.stderr
    reports = json.loads(result.stdout)["downloads"]
    assert [r["status"] for r in reports] == ["failed", "skipped", "saved"]
    return reports[0], out, result


def test_a_signed_url_redirecting_nowhere_fails_that_download_only(
    authed, api, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``Location: data:x`` ended the command in a traceback (httpx's bare InvalidURL)."""
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(302, headers={"location": "data:x"})
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"mp4", headers={"content-type": "video/mp4"}
    )
    failed, out, _ = _first_download_fails(authed, cli_home)
    assert failed["reason"] == "RemoteProtocolError"
    assert sorted(p.name for p in out.iterdir()) == ["wf-1_vid_0.mp4"]


def test_a_signed_url_redirecting_to_plain_http_fails_that_download_only(
    authed, api, cli_home: Path
) -> None:
    """An https -> http redirect was followed: the file travelled in clear text."""
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(
        302, headers={"location": "http://cdn.test/IMGA.jpeg?sig=secret-signature"}
    )
    clear = api.get("http://cdn.test/IMGA.jpeg").respond(content=b"\xff\xd8")
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"mp4", headers={"content-type": "video/mp4"}
    )
    failed, out, result = _first_download_fails(authed, cli_home)
    assert failed["reason"] == "InsecureRedirect"
    assert not clear.called
    assert "secret-signature" not in result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["wf-1_vid_0.mp4"]


def test_a_partial_answer_for_a_signed_url_is_a_failed_download(
    authed, api, cli_home: Path
) -> None:
    """A 206 (part of the file, no range asked for) was saved and reported "saved"."""
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(206, content=b"\xff\xd8")
    api.get("https://cdn.test/VIDB.mp4").respond(content=b"mp4")
    failed, out, _ = _first_download_fails(authed, cli_home)
    assert "only part of the file" in failed["reason"]
    assert [p.name for p in out.iterdir()] == ["wf-1_vid_0.mp4"]


def test_a_signed_url_with_a_malformed_idna_host_fails_that_download_only(
    authed, api, cli_home: Path
) -> None:
    """``https://xn--/x`` in a workflow ended ``results --download`` in a traceback."""
    workflow = copy.deepcopy(WF)
    workflow["steps"][0]["output"]["images"][0]["url"] = "https://xn--/IMGA?sig=s"
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=workflow)
    api.get("https://cdn.test/VIDB.mp4").respond(content=b"mp4")
    failed, _, _ = _first_download_fails(authed, cli_home)
    assert failed["reason"].startswith("the server gave a URL that cannot be fetched")


@pytest.mark.parametrize("retries", [0, 1])
def test_signed_url_downloads_retry_as_often_as_civitai_max_retries_says(
    authed, api, cli_home: Path, monkeypatch: pytest.MonkeyPatch, retries: int
) -> None:
    """A CI job with CIVITAI_MAX_RETRIES=0 fails fast: a 503 (or a hanging CDN, 30 s a
    try) on a signed URL was tried 4 times whatever the setting."""
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", str(retries))
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"a", headers={"content-type": "image/png"}
    )
    video = api.get("https://cdn.test/VIDB.mp4").respond(503)
    result = authed("results", "wf-1", "--download", f"--dir={cli_home / 'dl'}", "--json")
    assert result.exit_code == 11
    assert video.call_count == 1 + retries


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs")
@pytest.mark.parametrize("where", ["fifo", "file/sub"])
@pytest.mark.parametrize("command", [["results", "wf-1"], ["blob", "VIDB.mp4"]])
def test_a_download_dir_that_cannot_hold_files_is_one_usage_error(
    authed, api, cli_home: Path, where: str, command: list[str]
) -> None:
    """Not one failed download per output with a "run it again" that cannot help."""
    work = cli_home / "work"
    os.mkfifo(work / "fifo")
    (work / "file").write_text("x")
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    downloads = [api.get(url__startswith="https://cdn.test/"), api.get(url__regex=r"/blobs/")]
    result = authed(*command, "--download", "--dir", str(work / where), "--json")
    assert result.exit_code == 2, result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(f"cannot save downloads in {work / where}: ")
    assert "nothing was downloaded" in message
    assert not any(route.called for route in downloads)


def test_blob_lookup_and_download(authed, api, cli_home: Path) -> None:
    route = api.get(f"{API}/v2/consumer/blobs/VIDB.mp4").mock(
        side_effect=lambda request: httpx.Response(
            308, headers={"location": f"{API}/v2/consumer/blobs/content/tok"}
        )
    )
    api.get(f"{API}/v2/consumer/blobs/content/tok").respond(
        content=b"0123456789", headers={"content-type": "video/mp4"}
    )
    head = api.head(f"{API}/v2/consumer/blobs/VIDB.mp4").respond(
        204, headers={"content-length": "1000000000"}
    )
    looked_up = authed("blob", "VIDB.mp4", "--nsfw-level", "r", "--json")
    assert looked_up.exit_code == 0, looked_up.stderr
    data = json.loads(looked_up.stdout)
    assert data == {"blobId": "VIDB.mp4", "exists": True, "bytes": 1_000_000_000}
    assert head.calls.last.request.url.params["nsfwLevel"] == "r"
    assert not route.called  # a lookup uses HEAD: the blob is never downloaded
    out = cli_home / "blobs"
    result = authed("blob", "VIDB.mp4", "--download", f"--dir={out}")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in out.iterdir()] == ["VIDB.mp4"]
    assert "nsfwLevel" not in route.calls.last.request.url.params
    assert authed("blob", "X", "--nsfw", "--nsfw-level=r").exit_code == 2


def test_blob_download_never_names_a_windows_device(authed, api, cli_home: Path) -> None:
    """``blob CON.png --download`` saved CON.png: the console on Windows, not a file."""
    api.get(f"{API}/v2/consumer/blobs/CON.png").respond(
        content=b"png", headers={"content-type": "image/png"}
    )
    out = cli_home / "blobs"
    result = authed("blob", "CON.png", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(out / "_CON.png")
    assert [p.name for p in out.iterdir()] == ["_CON.png"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need a privilege")
def test_results_download_never_writes_through_a_symlink(authed, api, cli_home: Path) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"webp", headers={"content-type": "image/webp"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"mp4", headers={"content-type": "video/mp4"}
    )
    out, victim = cli_home / "out", cli_home / "victim"
    out.mkdir()
    victim.write_bytes(b"precious")
    (out / "wf-1_0_0.webp").symlink_to(victim)
    (out / "wf-1_vid_0.mp4").symlink_to(cli_home / "nowhere")
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 0, result.stderr
    paths = [r.get("path") for r in json.loads(result.stdout)["downloads"]]
    assert paths == [str(out / "wf-1_0_0-1.webp"), None, str(out / "wf-1_vid_0-1.mp4")]
    assert victim.read_bytes() == b"precious"
    assert not (cli_home / "nowhere").exists()


def test_an_unreadable_file_of_the_same_name_and_size_does_not_fail_the_download(
    authed, api, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Comparing it with the download (is it the same file, saved before?) raised
    PermissionError: that output failed on every run."""
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get("https://cdn.test/IMGA.jpeg").respond(
        content=b"webp", headers={"content-type": "image/webp"}
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=b"mp4", headers={"content-type": "video/mp4"}
    )
    out = cli_home / "out"
    out.mkdir()
    locked = out / "wf-1_0_0.webp"
    locked.write_bytes(b"WEBP")  # as long as the download
    real_open = Path.open

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 0, result.stdout
    assert (out / "wf-1_0_0-1.webp").read_bytes() == b"webp"


def test_a_full_disk_names_the_download_dir_and_leaves_nothing(
    authed, api, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``blob --download`` named its staging folder (.download-x1y2/A.png), gone by then."""
    import errno
    import io

    class Full(io.FileIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    api.get(url__startswith="https://cdn.test/").respond(content=b"x")
    api.get(f"{API}/v2/consumer/blobs/A.png").respond(content=b"x")
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Full(fd, "wb"))
    out = cli_home / "out"
    result = authed("blob", "A.png", "--download", f"--dir={out}")
    assert result.exit_code == 1
    assert f"cannot save the blob in {out}: No space left on device" in result.stderr
    assert ".download-" not in result.stderr
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 11
    reasons = {r.get("reason") for r in json.loads(result.stdout)["downloads"]}
    assert "[Errno 28] No space left on device" in reasons
    assert list(out.iterdir()) == []


def test_long_step_names_and_blob_ids_still_download(authed, api, cli_home: Path) -> None:
    """A server's 300-character step name (or blob id) made every download of it fail
    with "File name too long", run after run."""
    workflow = copy.deepcopy(WF)
    workflow["steps"][0]["name"] = "s" * 300
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=workflow)
    api.get(url__startswith="https://cdn.test/").respond(
        content=b"x", headers={"content-type": "image/png"}
    )
    long_id = "B" * 300 + ".png"
    api.get(f"{API}/v2/consumer/blobs/{long_id}").respond(
        content=b"y", headers={"content-type": "image/png"}
    )
    out = cli_home / "out"
    result = authed("results", "wf-1", "--download", f"--dir={out}", "--json")
    assert result.exit_code == 0, result.stdout
    assert authed("blob", long_id, "--download", f"--dir={out}").exit_code == 0
    names = [p.name for p in out.iterdir()]
    assert len(names) == 3  # the two outputs results saved, and the blob
    assert all(len(name) <= 255 for name in names)


class _CtrlC(httpx.SyncByteStream):
    def __iter__(self) -> Any:
        yield b"\x89PNG half of it"
        raise KeyboardInterrupt


@pytest.mark.parametrize("command", [["results", "wf-1"], ["blob", "IMGA.jpeg"]])
def test_ctrl_c_mid_download_leaves_nothing_in_the_dir(
    authed, api, cli_home: Path, command: list[str]
) -> None:
    """No part file, no staging folder, no file that looks complete."""
    from civitai_app_sdk.cli._exit import ExitCode

    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    for url in ("https://cdn.test/IMGA.jpeg", f"{API}/v2/consumer/blobs/IMGA.jpeg"):
        api.get(url).mock(
            side_effect=lambda request: httpx.Response(
                200, headers={"content-type": "image/png"}, stream=_CtrlC()
            )
        )
    out = cli_home / "out"
    result = authed(*command, "--download", f"--dir={out}")
    assert result.exit_code == ExitCode.INTERRUPTED
    assert list(out.iterdir()) == []


def test_blob_download_ends_on_a_trickle_with_nothing_saved(
    run, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI keeps the library's default floor; a small one keeps the test fast
    monkeypatch.setattr("civitai_app_sdk.orchestrator.client.DEFAULT_MIN_SPEED", (200, 0.3))
    out = cli_home / "blobs"
    with HostileServer("trickle", interval=0.02) as server:
        monkeypatch.setenv("CIVITAI_API_TOKEN", "tok-123")
        monkeypatch.setenv("CIVITAI_API_URL", server.url)
        start = time.monotonic()
        result = run("blob", "B1.png", "--download", f"--dir={out}")
    assert time.monotonic() - start < 5.0  # the trickle alone goes on for hours
    assert result.exit_code != 0
    assert "fewer than 200 bytes in 0.3 s" in result.stderr
    assert "nothing was saved" in result.stderr
    assert [p.name for p in out.rglob("*")] == []


def test_a_failed_download_says_why_in_the_cli_words() -> None:
    """A trickling signed URL's reason ended with the SDK's advice to Python callers
    ('pass a lower min_speed=(bytes, seconds)'); a URL the server gave that cannot be
    fetched said 'Fix these fields (names are the API's camelCase JSON names)'."""
    from civitai_app_sdk import errors as sdk
    from civitai_app_sdk.cli._download import failure_reason as _reason

    slow = sdk.DownloadTooSlowError("GET /x: only 3 bytes", min_bytes=32768, window=60.0)
    assert _reason(slow) == "too slow: fewer than 32768 bytes in 60 s"
    bad = sdk.RequestValidationError(["ftp://x/y?sig=*** is not an http(s) URL"], "URL")
    assert _reason(bad) == "the server gave a URL that cannot be fetched: " + bad.problems[0]
    for reason in (_reason(slow), _reason(bad)):
        assert "min_speed" not in reason
        assert "camelCase" not in reason


def test_workflow_wait_on_a_server_that_never_answers_is_a_network_failure(
    run, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HostileServer("hang") as server:
        monkeypatch.setenv("CIVITAI_API_TOKEN", "tok-123")
        monkeypatch.setenv("CIVITAI_API_URL", server.url)
        result = run("workflow", "wf-1", "--wait", "--timeout", "1")
    assert result.exit_code == 9, result.stderr
    assert "the request timed out: workflow wf-1 is still unknown" in result.stderr
    assert "civitai-orch cancel wf-1" in result.stderr


def test_blob_missing_is_not_found(authed, api) -> None:
    api.head(f"{API}/v2/consumer/blobs/NOPE").respond(404)
    result = authed("blob", "NOPE")
    assert result.exit_code == 6
    assert result.stderr.startswith("error: not found")


# --- estimate / submit / cancel ----------------------------------------------------------

BODY = {
    "steps": [
        {
            "$type": "textToImage",
            "input": {
                "model": "urn:air:sdxl:checkpoint:civitai:1@2",
                "prompt": "a red cat",
                "cfgScale": 7,
                "steps": 20,
                "width": 512,
                "height": 512,
                "quantity": 1,
                "batchSize": 1,
                "clipSkip": 2,
                "sourceImageDenoiseStrenght": 0.8,
            },
        }
    ]
}


def _body_file(cli_home: Path) -> str:
    path = cli_home / "work" / "wf.json"
    path.write_text(json.dumps(BODY))
    return str(path)


def test_estimate(authed, api, cli_home: Path) -> None:
    route = api.post(f"{API}/v2/consumer/workflows").respond(
        json=_wf(
            id="",
            status="unassigned",
            transactions={"list": [{"type": "debit", "amount": 12, "accountType": "blue"}]},
        )
    )
    result = authed("estimate", _body_file(cli_home))
    assert result.exit_code == 0, result.stderr
    assert route.calls.last.request.url.params["whatif"] == "true"
    assert "Estimated cost: 12 Buzz" in result.stdout
    assert "debit 12 from blue" in result.stdout
    data = json.loads(authed("estimate", "-", "--json", input=json.dumps(BODY)).stdout)
    assert data["cost"]["total"] == 12
    bad = authed("estimate", "-", input="[1")
    assert bad.exit_code == 2
    assert "not valid JSON" in bad.stderr
    invalid = authed("estimate", "-", input=json.dumps({"steps": []}))
    assert invalid.exit_code == 2
    assert invalid.stderr.startswith("error: invalid workflow body")


def test_submit_asks_and_needs_yes_without_terminal(authed, api, cli_home: Path) -> None:
    route = api.post(f"{API}/v2/consumer/workflows").respond(json=_wf(status="unassigned"))
    result = authed("submit", _body_file(cli_home))
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert all(c.request.url.params.get("whatif") == "true" for c in route.calls)


def test_submit_yes_wait_json(authed, api, cli_home: Path) -> None:
    posted = api.post(f"{API}/v2/consumer/workflows").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=_wf(status="unassigned")
            if request.url.params.get("whatif")
            else _wf(status="processing"),
        )
    )
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    result = authed(
        "submit", _body_file(cli_home), "--yes", "--wait", "--json", "--external-id", "job-42"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    real = json.loads(posted.calls.last.request.content)
    assert real["externalId"] == "job-42"
    assert "externalId" not in json.loads(posted.calls[0].request.content)


def _too_large(request: httpx.Request) -> httpx.Response:
    """An answer declaring more bytes than the SDK reads (a 1 GB body)."""
    if request.url.params.get("whatif"):
        return httpx.Response(200, json=_wf(status="unassigned"))
    return httpx.Response(200, headers={"content-length": str(1 << 30)}, content=b"{}")


def test_an_answer_too_large_to_read_is_not_called_a_refusal(authed, api, cli_home) -> None:
    # it said "the API refused the request (error)"; for a submit, beside "may have
    # been created": the server answered, the SDK stopped reading
    api.get(f"{API}/v2/consumer/workflows").mock(side_effect=_too_large)
    api.post(f"{API}/v2/consumer/workflows").mock(side_effect=_too_large)
    listed = authed("workflows", "--json")
    assert listed.exit_code == 1, listed.stderr
    message = json.loads(listed.stdout)["error"]["message"]
    assert "was larger than 67,108,864 bytes" in message
    assert "refused" not in message.replace("did not refuse", "")
    submitted = authed("submit", _body_file(cli_home), "--yes", "--external-id", "k-1", "--json")
    assert submitted.exit_code == 1, submitted.stderr
    document = json.loads(submitted.stdout)
    assert document["externalId"] == "k-1"
    assert "the API's answer was larger than" in document["error"]["message"]
    assert "may have been created: retry with `--external-id=k-1`" in document["error"]["message"]


def test_submit_insufficient_buzz(authed, api, cli_home: Path) -> None:
    api.post(f"{API}/v2/consumer/workflows", params={"whatif": "true"}).respond(
        json=_wf(transactions={"list": [], "insufficientBuzz": True})
    )
    result = authed("submit", _body_file(cli_home), "--yes")
    assert result.exit_code == 5
    assert "not enough Buzz" in result.stderr


def test_submit_403_from_server_is_insufficient_buzz(authed, api, cli_home: Path) -> None:
    api.post(f"{API}/v2/consumer/workflows").mock(
        side_effect=lambda request: (
            httpx.Response(200, json=_wf(status="unassigned"))
            if request.url.params.get("whatif")
            else httpx.Response(403, json="Insufficient buzz")
        )
    )
    result = authed("submit", _body_file(cli_home), "-y")
    assert result.exit_code == 5
    assert "Insufficient buzz" in result.stderr


def test_cancel(authed, api) -> None:
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=_wf(status="processing"))
    route = api.put(f"{API}/v2/consumer/workflows/wf-1").respond(204)
    assert json.loads(authed("cancel", "wf-1", "--json").stdout) == {"id": "wf-1", "canceled": True}
    assert json.loads(route.calls.last.request.content) == {"status": "canceled"}
    assert "Canceled wf-1." in authed("cancel", "wf-1").stdout


# --- test / errors -----------------------------------------------------------------------


def test_connection_test_hides_token(authed, api) -> None:
    route = api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": [WF]})
    result = authed("test")
    assert result.exit_code == 0
    assert route.calls.last.request.url.params["take"] == "1"
    assert "tok-123" not in result.stdout + result.stderr
    assert "from environment" in result.stdout
    data = json.loads(authed("test", "--json").stdout)
    assert data == {
        "ok": True,
        "apiUrl": API,
        "tokenSource": "environment",
        "workflowsOnFirstPage": 1,
    }


def test_connection_test_on_a_wrong_api_path_says_the_url_is_wrong(authed, api) -> None:
    api.get(f"{API}/v2/v2/consumer/workflows").respond(404, json={"title": "Not Found"})
    result = authed("test", "--api-url", f"{API}/v2/")
    assert result.exit_code == 6
    assert f"{API}/v2 has no workflows endpoint" in result.stderr
    assert "the API URL from the --api-url flag should be the API's root" in result.stderr
    assert "check the id" not in result.stderr  # `test` was given no id


def test_no_token_exits_3(run) -> None:
    result = run("test", env={"CIVITAI_API_URL": API})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: no API token")
    assert "login" in result.stderr


@pytest.mark.parametrize(
    ("status", "headers", "code", "words"),
    [
        (401, {}, 3, "invalid or expired"),
        (403, {}, 4, "permission denied"),
        (404, {}, 6, "not found"),
        (429, {"retry-after": "120"}, 7, "wait 120 s"),
        (503, {}, 8, "server error (HTTP 503)"),
        (400, {}, 1, "bad field"),
    ],
)
def test_error_exits(authed, api, monkeypatch, status, headers, code, words) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(
        status, json={"title": "x", "detail": "bad field"}, headers=headers
    )
    result = authed("workflow", "wf-1")
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert words in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_network_error_exits_9(authed, api, monkeypatch) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.get(f"{API}/v2/consumer/workflows/wf-1").mock(side_effect=httpx.ConnectError("boom"))
    result = authed("workflow", "wf-1")
    assert result.exit_code == 9
    assert "cannot reach the API" in result.stderr


def test_flag_token_beats_env_and_stored_login(run, api, monkeypatch) -> None:
    api.get("https://civitai.com/api/v1/me").respond(json={"id": 1})
    login = run("login", "--with-token", "--api-url", API, input="stored-key\n")
    assert login.exit_code == 0, login.stderr
    route = api.get(f"{API}/v2/consumer/workflows").respond(json={"next": "", "items": []})
    monkeypatch.setenv("CIVITAI_API_URL", API)
    monkeypatch.delenv("CIVITAI_API_TOKEN")
    run("workflows")
    assert route.calls.last.request.headers["authorization"] == "Bearer stored-key"
    run("workflows", "--token", "flag-key")
    assert route.calls.last.request.headers["authorization"] == "Bearer flag-key"
    Path(".env").write_text("CIVITAI_API_TOKEN=dotenv-key\n")
    run("workflows")
    assert route.calls.last.request.headers["authorization"] == "Bearer dotenv-key"


# --- v1 endpoints share the client's request core ----------------------------------------


def test_job_retries_503_then_succeeds_and_maps_errors(authed, api, monkeypatch) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "1")
    route = api.get(f"{API}/v1/consumer/jobs/a%2Fb").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=JOB)]
    )
    result = authed("job", "a/b", "--json")
    assert result.exit_code == 0, result.stderr
    assert route.call_count == 2
    assert json.loads(result.stdout) == JOB
    headers = route.calls.last.request.headers
    assert headers["user-agent"].startswith("civitai-orch/")
    assert headers["authorization"] == "Bearer tok-123"
    api.get(f"{API}/v1/consumer/jobs/gone").respond(404, json={"title": "Not Found"})
    missing = authed("job", "gone")
    assert (missing.exit_code, missing.stdout) == (6, "")
    assert missing.stderr.startswith("error: not found")


@pytest.mark.parametrize(
    ("header", "words"), [("1e11", "wait more than a year"), ("5400", "wait 90 min")]
)
def test_a_long_retry_after_reads_as_a_duration(authed, api, monkeypatch, header, words) -> None:
    # was "wait 1e+11 s and try again"
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.get(f"{API}/v1/consumer/jobs/j").respond(429, headers={"retry-after": header})
    result = authed("job", "j")
    assert result.exit_code == 7
    assert f"rate limited: {words} and try again" in result.stderr
    assert "e+" not in result.stderr


def test_job_rate_limit_reports_the_wait(authed, api, monkeypatch) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    api.get(f"{API}/v1/consumer/jobs/j").respond(429, headers={"retry-after": "42"})
    result = authed("job", "j")
    assert result.exit_code == 7
    assert "wait 42 s" in result.stderr


def test_user_network_failure_and_bad_json(authed, api, monkeypatch) -> None:
    monkeypatch.setenv("CIVITAI_MAX_RETRIES", "0")
    route = api.get(f"{API}/v1/manager/workflows")
    route.mock(side_effect=httpx.ConnectError("boom"))
    assert authed("user", "1").exit_code == 9
    route.mock(side_effect=None, return_value=httpx.Response(200, text="<html>"))
    result = authed("user", "1")
    assert result.exit_code == 1
    assert "did not return JSON" in result.stderr


@pytest.mark.parametrize(
    "args", [["--clear", "--add", ""], ["--remove", "a", "--add", "ok", "--add", ".."]]
)
def test_tags_checks_every_tag_before_changing_any(authed, api, args) -> None:
    """A bad tag late on the line must not leave --clear or earlier tags applied."""
    route = api.route(host="orch.test").respond(204)
    result = authed("tags", "wf-1", *args)
    assert result.exit_code == 2, result.stderr
    assert "nothing was sent" in result.stderr
    assert not route.called


@pytest.mark.parametrize("content_type", ["image/png\r\nX-Evil: 1", "image", "imagé/png"])
def test_upload_refuses_a_content_type_that_is_not_a_media_type(
    authed, api, cli_home: Path, content_type: str
) -> None:
    """Not "cannot reach the API: check the network" (exit 9) from the header check."""
    (cli_home / "work" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    route = api.route(host="orch.test")
    result = authed("upload", "a.png", "--content-type", content_type, "--json")
    assert result.exit_code == 2, result.stderr
    assert "is not a media type" in json.loads(result.stdout)["error"]["message"]
    assert not route.called


DEEP = "[" * 100_000 + "]" * 100_000
"""Valid JSON nested past what Python's parser can read."""


@pytest.mark.parametrize(
    "command", [["job", "j"], ["user", "1"], ["workflow", "w"], ["workflows"], ["tags", "w"]]
)
def test_a_response_nested_too_deeply_is_an_error_not_a_traceback(authed, api, command) -> None:
    api.route(host="orch.test").respond(
        200, text=DEEP, headers={"content-type": "application/json"}
    )
    result = authed(*command, "--json")  # the runner re-raises what escapes: no traceback
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["error"]["exitCode"] == 1


@pytest.mark.parametrize(
    "command", [["submit", "{}", "--yes"], ["estimate", "{}"], ["recipe", "textToImage", "{}"]]
)
def test_an_input_file_nested_too_deeply_is_a_usage_error(authed, api, cli_home, command) -> None:
    deep = cli_home / "work" / "deep.json"
    deep.write_text(DEEP)
    route = api.route(host="orch.test")
    result = authed(*[str(deep) if arg == "{}" else arg for arg in command], "--json")
    assert result.exit_code == 2, result.stderr
    assert "deep.json is nested too deeply" in json.loads(result.stdout)["error"]["message"]
    assert not route.called


@pytest.mark.parametrize(
    "command", [["submit", "{}", "--yes"], ["estimate", "{}"], ["recipe", "textToImage", "{}"]]
)
def test_an_input_past_the_size_cap_is_a_usage_error_not_a_memory_error(
    authed, api, cli_home, command, monkeypatch
) -> None:
    # `estimate /dev/zero` read until memory ran out: a MemoryError traceback
    from civitai_app_sdk.cli import _json_input

    monkeypatch.setattr(_json_input, "MAX_INPUT", 1000)
    big = cli_home / "work" / "big.json"
    big.write_text(json.dumps({"steps": [], "pad": "x" * 1000}))
    route = api.route(host="orch.test")
    result = authed(*[str(big) if arg == "{}" else arg for arg in command], "--json")
    assert result.exit_code == 2, result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith(f"{big} is larger than 1,000 characters")
    assert not route.called
    fits = cli_home / "work" / "fits.json"
    fits.write_text("[1]")  # under the cap: read (and then refused as no workflow object)
    assert "larger than" not in authed(*[str(fits) if a == "{}" else a for a in command]).stderr


@pytest.mark.parametrize("command", [["job", "j"], ["user", "1"], ["workflow", "w"]])
def test_token_with_line_break_is_refused_before_sending(run, api, command) -> None:
    route = api.route(host="orch.test")
    result = run(*command, env={"CIVITAI_API_URL": API, "CIVITAI_API_TOKEN": "abc\r\nX-Evil: 1"})
    assert result.exit_code == 3
    assert "characters a token cannot have" in result.stderr
    assert "X-Evil" not in result.stderr
    assert not route.called


def test_a_gzip_bomb_from_a_signed_url_is_a_failed_download(authed, api, cli_home: Path) -> None:
    """A server answering ``Content-Encoding: gzip`` to the ``identity`` asked for could
    turn 50 KB on the wire into gigabytes on disk; the decoded body is now capped."""
    import gzip

    api.get(f"{API}/v2/consumer/workflows/wf-1").respond(json=WF)
    bomb = api.get("https://cdn.test/IMGA.jpeg").respond(
        content=gzip.compress(b"\0" * 50_000_000),
        headers={"content-type": "image/jpeg", "content-encoding": "gzip"},
    )
    api.get("https://cdn.test/VIDB.mp4").respond(
        content=gzip.compress(b"mp4"), headers={"content-encoding": "gzip"}
    )
    failed, out, _ = _first_download_fails(authed, cli_home)
    assert bomb.calls.last.request.headers["accept-encoding"] == "identity"
    assert "nothing was kept" in failed["reason"]
    assert [p.name for p in out.iterdir()] == ["wf-1_vid_0.mp4"]
    assert (out / "wf-1_vid_0.mp4").read_bytes() == b"mp4"
