"""End to end: the CLI against the local stand-in orchestrator on a loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from civitai_app_sdk.local import LocalConfig, LocalServer
from civitai_app_sdk.local.timeline import Timings

TOKEN = "local-cli-token"
BODY = {
    "steps": [
        {
            "$type": "textToImage",
            "name": "render",
            "input": {
                "model": "urn:air:sdxl:checkpoint:civitai:1@2",
                "prompt": "a lighthouse at dusk",
                "cfgScale": 7,
                "steps": 20,
                "width": 512,
                "height": 512,
                "quantity": 2,
                "batchSize": 1,
                "clipSkip": 2,
                "sourceImageDenoiseStrenght": 0.8,
            },
        }
    ]
}


@pytest.fixture
def local(run, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    fast = Timings(unassigned=0.01, preparing=0.01, scheduled=0.01, processing=0.05)
    with LocalServer(LocalConfig(token=TOKEN, timings=fast)) as server:
        monkeypatch.setenv("CIVITAI_API_URL", server.url)
        monkeypatch.setenv("CIVITAI_API_TOKEN", TOKEN)
        yield server


def test_submit_wait_list_and_download(run, local: LocalServer, cli_home: Path) -> None:
    body = cli_home / "work" / "body.json"
    body.write_text(json.dumps(BODY))
    estimate = run("estimate", str(body), "--json")
    assert estimate.exit_code == 0, estimate.stderr
    assert json.loads(estimate.stdout)["cost"]["total"] > 0

    submitted = run("submit", str(body), "--yes", "--wait", "--timeout=30", "--json")
    assert submitted.exit_code == 0, submitted.stderr
    workflow = json.loads(submitted.stdout)
    assert workflow["status"] == "succeeded"

    listed = json.loads(run("workflows", "--json").stdout)
    assert workflow["id"] in [w["id"] for w in listed["items"]]

    out = cli_home / "downloads"
    results = run("results", workflow["id"], "--download", f"--dir={out}", "--json")
    assert results.exit_code == 0, results.stderr
    saved = [r for r in json.loads(results.stdout)["downloads"] if r["status"] == "saved"]
    assert len(saved) == 2
    names = sorted(p.name for p in out.iterdir())
    assert names[0].startswith(f"{workflow['id']}_render_0.")
    assert all(not n.endswith(".png.png") and not n.startswith(".") for n in names)

    step = run("step", workflow["id"], "render", "--json")
    assert json.loads(step.stdout)["name"] == "render"


def test_wrong_token_and_unknown_workflow(run, local: LocalServer) -> None:
    missing = run("workflow", "1-20270101000000000")
    assert missing.exit_code == 6
    refused = run("workflows", "--token", "wrong")
    assert refused.exit_code == 3
    assert refused.stderr.startswith("error: the API token was refused")


@pytest.mark.parametrize("retries", [0, 3])
def test_serve_local_drop_submits_loses_the_answer_and_the_key_recovers_it(
    run, cli_home: Path, monkeypatch: pytest.MonkeyPatch, retries: int
) -> None:
    """`serve-local --drop-submits 1` charges the submit and drops its answer (the estimate
    before it is answered). The CLI's own retry, or a rerun with the key it prints,
    finds that workflow: one workflow, paid once."""
    from civitai_app_sdk.cli.serve_local import _faults

    fast = Timings(unassigned=0.01, preparing=0.01, scheduled=0.01, processing=0.05)
    config = LocalConfig(token=TOKEN, timings=fast, faults=_faults(0, 0, 1.0, 0, 0, 1))
    with LocalServer(config) as server:
        monkeypatch.setenv("CIVITAI_API_URL", server.url)
        monkeypatch.setenv("CIVITAI_API_TOKEN", TOKEN)
        monkeypatch.setenv("CIVITAI_MAX_RETRIES", str(retries))
        body = cli_home / "work" / "body.json"
        body.write_text(json.dumps(BODY))
        submitted = run("submit", str(body), "--yes", "--json")
        charged = 5000 - sum(server.state.store.ledger.balance().values())
        assert charged > 0
        if retries == 0:
            assert submitted.exit_code == 9, submitted.stderr
            key = json.loads(submitted.stdout)["externalId"]
            assert f"retry with `--external-id={key}`" in submitted.stderr
            submitted = run("submit", str(body), "--yes", "--external-id", key, "--json")
        assert submitted.exit_code == 0, submitted.stderr
        listed = json.loads(run("workflows", "--json").stdout)["items"]
        assert [w["id"] for w in listed] == [json.loads(submitted.stdout)["id"]]
        assert 5000 - sum(server.state.store.ledger.balance().values()) == charged
