"""`civitai-orch upload`, `delete`, `recipe` and `tags` against the local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from local_helpers import TOKEN, text_to_image

from civitai_app_sdk.cli import main
from civitai_app_sdk.local import LocalServer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.fixture
def run(server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("CIVITAI_API_URL", server.url)
    monkeypatch.setenv("CIVITAI_API_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _submit(run: CliRunner, tmp_path: Path, **extra: object) -> str:
    body = tmp_path / "workflow.json"
    body.write_text(json.dumps(text_to_image(**extra)))
    result = run.invoke(main, ["submit", str(body), "--yes", "--json"])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def test_upload_prints_the_blob_id(run: CliRunner, server: LocalServer, tmp_path: Path) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG)
    plain = run.invoke(main, ["upload", str(picture)])
    assert plain.exit_code == 0, plain.output
    blob_id = plain.stdout.strip()
    assert server.state.uploads.files[blob_id].data == PNG
    as_json = run.invoke(main, ["upload", str(picture), "--json"])
    assert json.loads(as_json.stdout)["type"] == "image"
    assert run.invoke(main, ["upload", str(tmp_path / "missing.png")]).exit_code == 2


def test_delete_asks_unless_yes(run: CliRunner, server: LocalServer, tmp_path: Path) -> None:
    workflow_id = _submit(run, tmp_path)
    refused = run.invoke(main, ["delete", workflow_id])
    assert refused.exit_code == 2
    assert "--yes" in refused.output
    assert workflow_id in server.state.store.workflows
    deleted = run.invoke(main, ["delete", workflow_id, "--yes", "--json"])
    assert deleted.exit_code == 0, deleted.output
    assert json.loads(deleted.stdout) == {"id": workflow_id, "deleted": True}
    assert workflow_id not in server.state.store.workflows
    assert run.invoke(main, ["delete", workflow_id, "--yes"]).exit_code == 6


def test_tags_add_remove_clear(run: CliRunner, tmp_path: Path) -> None:
    workflow_id = _submit(run, tmp_path, tags=["a", "b"])
    changed = run.invoke(main, ["tags", workflow_id, "--add", "c:d", "--remove", "a", "--json"])
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout)["tags"] == ["b", "c:d"]
    cleared = run.invoke(main, ["tags", workflow_id, "--clear"])
    assert cleared.exit_code == 0, cleared.output
    assert "(no tags)" in cleared.stdout


def test_recipe_estimate_and_run(run: CliRunner, server: LocalServer, tmp_path: Path) -> None:
    step_input = tmp_path / "input.json"
    step_input.write_text(json.dumps({"message": "hello"}))
    estimate = run.invoke(main, ["recipe", "echo", str(step_input), "--estimate", "--json"])
    assert estimate.exit_code == 0, estimate.output
    assert server.state.store.workflows == {}
    refused = run.invoke(main, ["recipe", "echo", str(step_input)])
    assert refused.exit_code == 2
    ran = run.invoke(main, ["recipe", "echo", str(step_input), "--yes", "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout) == {"message": "hello"}
    assert len(server.state.store.workflows) == 1
    unknown = run.invoke(main, ["recipe", "noSuchRecipe", str(step_input)])
    assert unknown.exit_code == 2
    assert "text_to_image" in unknown.output
