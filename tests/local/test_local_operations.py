"""The operations beyond submit/get/list, through the SDK clients, against the local server."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path

import anyio
import httpx
import pytest
from local_helpers import TOKEN, text_to_image

from civitai_app_sdk.errors import NotFoundError, OrchestratorError, RequestValidationError
from civitai_app_sdk.local import LocalServer
from civitai_app_sdk.local import operations as local_operations
from civitai_app_sdk.orchestrator import AsyncOrchestratorClient, OrchestratorClient, make_patch

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def client(server: LocalServer) -> OrchestratorClient:
    return OrchestratorClient(TOKEN, base_url=server.url)


def charged(server: LocalServer) -> int:
    return 5000 - sum(server.state.store.ledger.balance().values())


def test_upload_then_read_the_blob_every_way(server: LocalServer, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    with client(server) as orchestrator:
        blob = orchestrator.upload_blob(
            PNG, on_progress=lambda sent, total: seen.append((sent, total))
        )
        assert blob.type == "image"
        assert seen[-1] == (len(PNG), len(PNG))
        assert orchestrator.get_blob(blob.id) == PNG
        assert orchestrator.head_blob(blob.id) is None
        assert orchestrator.get_streaming_blob(blob.id) == PNG
        refreshed = orchestrator.refresh_blob(blob.id)
        assert refreshed.id == blob.id
        assert refreshed.url
        token = server.state.signer.content_token(blob.id)
        assert orchestrator.get_blob_content(token) == PNG
        assert orchestrator.get_blocked_content(token).startswith(b"\x89PNG")
        archive = orchestrator.download_archive(token, tmp_path / "out")
        assert archive.suffix == ".zip"
        assert zipfile.ZipFile(io.BytesIO(archive.read_bytes())).read(blob.id) == PNG
        with pytest.raises(NotFoundError):
            orchestrator.head_blob("NOPE.png")
        with pytest.raises(OrchestratorError) as gone:
            orchestrator.download_archive("forged.token", tmp_path)
        assert gone.value.status == 410
        assert not list(tmp_path.glob(".download-*"))


def test_presigned_upload_needs_no_bearer(server: LocalServer) -> None:
    with client(server) as orchestrator:
        presigned = orchestrator.get_blob_upload_url()
    answer = httpx.post(presigned.upload_url, content=PNG, headers={"Content-Type": "image/png"})
    assert answer.status_code == 201
    assert answer.json()["id"] in server.state.uploads.files
    forged = presigned.upload_url.replace("sig=", "sig=x")
    refused = httpx.post(forged, content=PNG, headers={"Content-Type": "image/png"})
    assert refused.status_code == 401


def test_upload_refuses_wrong_types_and_oversized_files(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with client(server) as orchestrator:
        with pytest.raises(OrchestratorError) as wrong:
            orchestrator.upload_blob(b"hello", content_type="text/plain")
        assert wrong.value.status == 415
        monkeypatch.setattr(local_operations, "MAX_UPLOAD", 1000)
        with pytest.raises(OrchestratorError) as large:
            orchestrator.upload_blob(PNG)
        assert large.value.status == 413
    assert server.state.uploads.files == {}


def test_workflow_changed_in_place_then_deleted(server: LocalServer) -> None:
    with client(server) as orchestrator:
        workflow_id = str(orchestrator.submit(text_to_image(tags=["a", "b"])).id)
        orchestrator.update(workflow_id, {"metadata": {"project": "x"}, "tags": ["a", "b", "c"]})
        before = orchestrator.get(workflow_id)
        assert before.tags == ["a", "b", "c"]
        orchestrator.patch(
            workflow_id, make_patch({"metadata": {"project": "x"}}, {"metadata": {"project": "y"}})
        )
        assert orchestrator.get(workflow_id).metadata == {"project": "y"}
        step = before.steps[0].name
        orchestrator.update_step(workflow_id, step, {"metadata": {"k": 1}})
        orchestrator.patch_step(
            workflow_id, step, [{"op": "add", "path": "/metadata/j", "value": 2}]
        )
        assert orchestrator.get_step(workflow_id, step).metadata == {"k": 1, "j": 2}
        orchestrator.remove_all_tags(workflow_id)
        assert orchestrator.get(workflow_id).tags == []
        with pytest.raises(RequestValidationError):
            orchestrator.delete("")
        orchestrator.delete(workflow_id)
        with pytest.raises(NotFoundError):
            orchestrator.get(workflow_id)


def test_wrong_typed_field_is_a_400_problem(server: LocalServer) -> None:
    with client(server) as orchestrator:
        workflow_id = str(orchestrator.submit(text_to_image()).id)
        with pytest.raises(RequestValidationError):
            orchestrator.update(workflow_id, {"allowMatureContent": "yes"})
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{server.url}/v2/consumer/workflows/{workflow_id}"
    answer = httpx.put(url, json={"allowMatureContent": "yes"}, headers=headers)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "allowMatureContent" in answer.text


def test_recipe_runs_as_one_charged_step(server: LocalServer) -> None:
    step_input = {"prompt": "a lighthouse", "cfgScale": 7, "width": 512, "height": 512}
    with client(server) as orchestrator:
        estimate = orchestrator.recipes.text_to_image(step_input, whatif=True)
        assert estimate.images == []
        assert charged(server) == 0
        output = orchestrator.recipes.text_to_image(step_input)
        assert charged(server) == 4
        assert len(output.images) == 1
        assert output.images[0].url
        assert orchestrator.recipes.echo({"message": "hi"}).message == "hi"


def test_resources_and_internal_calls(server: LocalServer) -> None:
    air = "urn:air:sdxl:checkpoint:civitai:101055@128078"
    with client(server) as orchestrator:
        assert orchestrator.get_resource(air).air == air
        assert orchestrator.invalidate_user_cache(1) is None
        assert orchestrator.invalidate_user_tokens(1) is None


def test_async_upload_streams_a_file(server: LocalServer, tmp_path: Path) -> None:
    source = tmp_path / "picture.png"
    source.write_bytes(PNG * 30)
    seen: list[int] = []

    async def run() -> str:
        async with AsyncOrchestratorClient(TOKEN, base_url=server.url) as orchestrator:
            blob = await orchestrator.upload_blob(source, on_progress=lambda s, _: seen.append(s))
            assert await orchestrator.get_blob(blob.id) == PNG * 30
            return blob.id

    blob_id = anyio.run(run)
    assert server.state.uploads.files[blob_id].content_type == "image/png"
    assert seen[-1] == len(PNG) * 30


def test_patch_with_json_patch_semantics(server: LocalServer) -> None:
    with client(server) as orchestrator:
        workflow_id = str(orchestrator.submit(text_to_image(tags=["a"])).id)
        orchestrator.patch(workflow_id, make_patch({"tags": ["a"]}, {"tags": ["a", "b"]}))
        orchestrator.patch(workflow_id, [{"op": "add", "path": "/tags/-", "value": "c"}])
        assert orchestrator.get(workflow_id).tags == ["a", "b", "c"]
        for bad in (
            [{"op": "test", "path": "/tags/0", "value": "zzz"}],
            [{"op": "replace", "path": "/status", "value": "succeeded"}],
            [{"op": "add", "path": "/cost", "value": 0}],
            [{"op": "remove", "path": "/metadata/missing"}],
        ):
            with pytest.raises(OrchestratorError) as refused:
                orchestrator.patch(workflow_id, bad)
            assert refused.value.status == 400
        assert orchestrator.get(workflow_id).tags == ["a", "b", "c"]


def test_example_uploads_runs_a_recipe_patches_and_deletes(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CIVITAI_API_URL", server.url)
    monkeypatch.setenv("CIVITAI_API_TOKEN", TOKEN)
    path = Path(__file__).parents[2] / "examples" / "upload_recipe_patch_delete.py"
    spec = importlib.util.spec_from_file_location("upload_recipe_patch_delete", path)
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG)
    assert example.main(picture, "a watercolour lighthouse") == 0
    assert [u.data for u in server.state.uploads.files.values()] == [PNG]
    (remaining,) = server.state.store.workflows.values()  # the recipe's; the other is deleted
    assert remaining.steps[0]["input"]["sourceImage"].startswith(server.url)
