"""Every operation of the pinned spec, driven on both clients against respx.

The cases come from the spec itself: for each operation the test builds path values,
query values and a body from the spec's parameter and schema declarations, calls the
client method named in ``OPERATIONS``, and checks the request (method, path, query, body,
content type) and the parsing of a documented 2xx answer built from the response schema.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import anyio
import civitai_app_sdk_generated
import httpx
import pytest
import respx
from civitai_app_sdk_generated import OPERATION_SPECS
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from civitai_app_sdk._transport import AsyncTransport, Send, SyncTransport
from civitai_app_sdk.errors import RequestValidationError, ServerError
from civitai_app_sdk.orchestrator import OPERATIONS, AsyncOrchestratorClient, OrchestratorClient
from civitai_app_sdk.orchestrator.requests import build_operation
from codegen import normalize, operations, pipeline
from tests.codegen.instances import InstanceBuilder
from tests.pinned import pinned_json

BASE = "https://orch.test"
TOKEN = "0123456789abcdef0123456789abcdef"

SPEC = pinned_json("orchestrator")
SPEC_OPERATIONS = {
    op["operationId"]: (method.upper(), path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if method in operations.METHODS
}
QUERY_VALUES: dict[str, Any] = {
    "bool": True,
    "int": 7,
    "str": "q v",
    "array": ["a", "b:c"],
    "datetime": "2026-01-02T03:04:05Z",
}


@functools.cache
def schemas() -> dict[str, Any]:
    normalised, _, _ = normalize.normalize(SPEC, pipeline.load_patches())
    return normalised["components"]["schemas"]  # type: ignore[no-any-return]


def _schema_of(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return schemas()[ref.removeprefix(normalize.REF_PREFIX)] if ref else schema


def _documented_answer(op: dict[str, Any]) -> tuple[int, Any]:
    """The first documented 2xx status and a JSON body built from its schema (or None)."""
    for status in sorted(s for s in op["responses"] if s.startswith("2")):
        media = (op["responses"][status].get("content") or {}).get("application/json")
        body = None if media is None else InstanceBuilder(schemas()).build(media["schema"])
        return int(status), body
    return 200, None


def _path_value(param: dict[str, Any]) -> Any:
    if param["schema"].get("type") == "integer":
        return 42
    return f"{param['name']} 1/$x:é"


def _query_value(param: dict[str, Any]) -> Any:
    schema = _schema_of(param["schema"])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if schema.get("format") == "date-time":
        return QUERY_VALUES["datetime"]
    return QUERY_VALUES[{"boolean": "bool", "integer": "int", "array": "array"}.get(kind, "str")]


def _wire(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class Case:
    """One call: arguments for the client method and the request it must produce."""

    def __init__(self, operation_id: str) -> None:
        self.operation_id = operation_id
        self.method, template, op = SPEC_OPERATIONS[operation_id]
        spec = OPERATION_SPECS[operation_id]
        self.args: list[Any] = []
        self.kwargs: dict[str, Any] = {}
        self.query: list[tuple[str, str]] = []
        path = template
        for param in op.get("parameters", []):
            if param["in"] == "path":
                value = _path_value(param)
                self.args.append(value)
                encoded = quote(str(value), safe="!~*'()")
                path = path.replace("{" + param["name"] + "}", encoded)
            elif param["in"] == "query":
                value = _query_value(param)
                self.kwargs[operations.snake(param["name"])] = value
                self.query += [(param["name"], v) for v in _wire(value)]
        self.path = path
        self.body: Any = None
        self.content_type: str | None = None
        content = (op.get("requestBody") or {}).get("content", {})
        if content:
            self.content_type = spec.body_content_type
            if self.content_type == operations.JSON_PATCH:
                self.body = [{"op": "replace", "path": "/metadata/a", "value": None}]
            else:
                schema = content["application/json"]["schema"]
                self.body = InstanceBuilder(schemas()).build(schema)
                if schema.get("type") == "string":
                    self.body = "https://example.test/a.png"
            self.args.append(self.body)
        self.status, self.answer = _documented_answer(op)
        self.response_model = spec.response_model
        self.raw = b"\x89PNG\r\n\x1a\nbytes" if spec.response == "bytes" else None


# The methods written by hand take their own arguments; the rest come from the spec.
def _facade_case(case: Case, tmp_path: Path) -> None:
    special: dict[str, Callable[[], None]] = {
        "SubmitWorkflow": lambda: _set(
            case,
            [{"steps": [{"$type": "echo", "input": {"message": "hi"}}]}],
            {"wait": 7, "hide_mature_content": True},
            [("wait", "7"), ("hideMatureContent", "true")],
        ),
        "QueryWorkflows": lambda: _set(
            case,
            [],
            {"tags": ["a", "b:c"], "take": 7},
            [("tags", "a"), ("tags", "b:c"), ("take", "7")],
        ),
        "GetWorkflow": lambda: _set(case, case.args, {"wait": 7}, [("wait", "7")]),
        "GetBlob": lambda: _set(case, case.args, {"workflow_id": "w"}, [("workflowId", "w")]),
        "UploadConsumerBlob": lambda: _set(case, [b"\x89PNG\r\n\x1a\n0000"], {}, []),
        "GetBlobArchive": lambda: _set(case, [*case.args, tmp_path / "a.zip"], {}, []),
        "GetResource": lambda: _set(case, ["urn:air:sdxl:checkpoint:civitai:1@2"], {}, []),
    }
    if case.operation_id in special:
        special[case.operation_id]()
    if case.operation_id == "GetResource":
        case.path = "/v2/resources/urn:air:sdxl:checkpoint:civitai:1@2"
    if case.operation_id == "UploadConsumerBlob":
        case.content_type = "image/png"
    if case.operation_id == "GetBlob":
        case.status, case.raw = 200, b"blob-bytes"


def _set(case: Case, args: list[Any], kwargs: dict[str, Any], query: list[Any]) -> None:
    case.args, case.kwargs, case.query = args, kwargs, query


def _method(client: Any, attribute: str) -> Any:
    owner = client
    for part in attribute.split("."):
        owner = getattr(owner, part)
    return owner


def _contains(sent: Any, given: Any) -> bool:
    """``sent`` holds everything in ``given`` (the SDK may add the schema's defaults)."""
    if isinstance(given, dict):
        return isinstance(sent, dict) and all(
            k in sent and _contains(sent[k], v) for k, v in given.items()
        )
    if isinstance(given, list):
        return (
            isinstance(sent, list) and len(sent) == len(given) and all(map(_contains, sent, given))
        )
    return bool(sent == given)


def _check(case: Case, route: respx.Route, result: Any) -> None:
    request = route.calls.last.request
    assert request.method == case.method
    assert request.url.raw_path.split(b"?")[0].decode() == case.path
    assert sorted(request.url.params.multi_items()) == sorted(case.query)
    if case.content_type is not None:
        assert request.headers["content-type"] == case.content_type
    if case.operation_id == "UploadConsumerBlob":
        assert request.content == b"\x89PNG\r\n\x1a\n0000"
    elif case.body is not None and case.operation_id != "SubmitWorkflow":
        sent = json.loads(request.content)
        assert _contains(sent, case.body), (sent, case.body)
    if case.operation_id == "GetBlobArchive":
        assert Path(result).read_bytes() == case.raw
    elif case.raw is not None:
        assert result == case.raw
    elif case.answer is None:
        assert result is None
    else:
        kind = getattr(civitai_app_sdk_generated, str(case.response_model))
        expected = TypeAdapter(kind).validate_python(case.answer)
        assert result == expected
        assert isinstance(result, BaseModel)


@pytest.fixture
def core_sent(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """The requests the one request core sent (a spy on both transports' performers)."""
    sent: list[httpx.Request] = []
    sync_perform, async_perform = SyncTransport._perform, AsyncTransport._perform

    def spy_sync(self: SyncTransport, effect: Any) -> Any:
        if isinstance(effect, Send):
            sent.append(effect.request)
        return sync_perform(self, effect)

    async def spy_async(self: AsyncTransport, effect: Any) -> Any:
        if isinstance(effect, Send):
            sent.append(effect.request)
        return await async_perform(self, effect)

    monkeypatch.setattr(SyncTransport, "_perform", spy_sync)
    monkeypatch.setattr(AsyncTransport, "_perform", spy_async)
    return sent


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("operation_id", sorted(SPEC_OPERATIONS))
def test_every_operation_sends_the_spec_request_and_reads_its_answer(
    operation_id: str, flavour: str, tmp_path: Path, core_sent: list[httpx.Request]
) -> None:
    case = Case(operation_id)
    _facade_case(case, tmp_path)
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        route = mock.route(method=case.method, path__regex=".*")
        if case.raw is not None:
            route.respond(case.status, content=case.raw)
        elif case.answer is not None:
            route.respond(case.status, json=case.answer)
        else:
            route.respond(case.status)
        if flavour == "sync":
            with OrchestratorClient(TOKEN, base_url=BASE) as client:
                result = _method(client, OPERATIONS[operation_id])(*case.args, **case.kwargs)
        else:

            async def run() -> Any:
                async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
                    method = _method(client, OPERATIONS[operation_id])
                    assert inspect.iscoroutinefunction(method)
                    return await method(*case.args, **case.kwargs)

            result = anyio.run(run)
        _check(case, route, result)
        on_wire = [(c.request.method, str(c.request.url)) for c in route.calls]
        assert on_wire == [(r.method, str(r.url)) for r in core_sent], "bypassed the core"


def test_operations_are_exactly_the_specs() -> None:
    assert set(OPERATIONS) == set(SPEC_OPERATIONS)
    assert len(OPERATIONS) == 68
    assert OPERATIONS["GetWorkflow"] == "get"
    assert OPERATIONS["InvokeTextToImageStepTemplate"] == "recipes.text_to_image"


def test_every_operation_is_a_method_on_both_clients() -> None:
    with OrchestratorClient(TOKEN, base_url=BASE) as sync:
        clients = (sync, AsyncOrchestratorClient(TOKEN, base_url=BASE))
        assert operations.missing_methods(dict(OPERATIONS), clients) == []
        missing = operations.missing_methods({"NewOp": "recipes.not_there"}, clients)
    assert missing == [
        "NewOp: OrchestratorClient.recipes.not_there",
        "NewOp: AsyncOrchestratorClient.recipes.not_there",
    ]


def test_recipes_are_sent_once_unless_whatif() -> None:
    """A recipe spends Buzz and has no idempotency key: a 503 is not retried, a whatif is."""
    body = {"message": "hi"}
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v2/consumer/recipes/echo").mock(
            side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json=body)]
        )
        with OrchestratorClient(TOKEN, base_url=BASE, sleep=lambda _: None) as client:
            with pytest.raises(ServerError, match="503"):
                client.recipes.echo(body)
            assert route.call_count == 1
            client.recipes.echo(body, whatif=True)
        assert route.call_count == 3


def test_a_recipe_body_is_checked_as_strictly_as_a_workflow_body() -> None:
    """A recipe's body with an engine input (a lazy union) was read leniently: ``"512"``
    went out as the number 512 where a workflow body refused it. Nothing is sent."""
    engine = {"engine": "flux2", "model": "klein", "operation": "createImage", "prompt": "x"}
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post("/v2/consumer/recipes/imageGen").respond(200, json={})
        with (
            OrchestratorClient(TOKEN, base_url=BASE) as client,
            pytest.raises(RequestValidationError, match="/width: Input should be a valid"),
        ):
            client.recipes.image_gen({**engine, "width": "512"})
        assert route.call_count == 0


def test_operation_specs_mark_money_and_retry_safety() -> None:
    charging = {k for k, spec in OPERATION_SPECS.items() if spec.may_charge}
    recipes = {k for k in OPERATION_SPECS if k.startswith("Invoke")}
    assert charging == recipes | {"PatchWorkflow", "SubmitWorkflow", "UpdateWorkflow"}
    assert not any(OPERATION_SPECS[k].idempotent for k in recipes | {"SubmitWorkflow"})
    assert OPERATION_SPECS["DeleteWorkflow"].idempotent
    assert OPERATION_SPECS["PatchWorkflow"].body_content_type == operations.JSON_PATCH


@given(
    workflow_id=st.text(min_size=1).filter(str.strip), step=st.text(min_size=1).filter(str.strip)
)
def test_path_values_stay_one_segment(workflow_id: str, step: str) -> None:
    """No id or step name can change which resource a call addresses."""
    try:
        operation = build_operation(
            OPERATION_SPECS["PatchWorkflowStep"], (workflow_id, step), {}, []
        )
    except ValueError:
        return  # refused outright (e.g. a helper rejects '..'): nothing is sent
    parts = operation.call.path.split("/")
    assert parts[:4] == ["", "v2", "consumer", "workflows"]
    assert len(parts) == 7
    assert (unquote(parts[4]), parts[5], unquote(parts[6])) == (workflow_id, "steps", step)


@given(value=st.one_of(st.integers(), st.text(), st.floats(), st.none()))
def test_query_values_are_type_checked(value: object) -> None:
    spec = OPERATION_SPECS["InvokeEchoStepTemplate"]
    try:
        operation = build_operation(spec, (), {"whatif": value}, {"message": "m"})
    except RequestValidationError:
        assert not isinstance(value, bool)
        assert value is not None
        return
    assert value is None
    assert operation.call.params == ()


class _Pipe(io.RawIOBase):
    """A readable stream that cannot seek (its size is unknown)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_upload_sources_stream_with_their_size_and_type(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024)
    handle = io.BytesIO(b"skip" + png)
    handle.seek(4)
    cases: list[tuple[Any, str | None, str, str | None]] = [
        (png, None, "image/png", str(len(png))),  # sniffed from the bytes
        (handle, None, "image/png", str(len(png))),  # from the current position
        (_Pipe(png), "image/png", "image/png", None),  # no size: sent chunked
        (tmp_path / "clip.mp4", None, "video/mp4", "3"),  # from the file name
    ]
    (tmp_path / "clip.mp4").write_bytes(b"abc")
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v2/consumer/blobs").respond(
            201, json={"type": "image", "id": "X.png", "available": True}
        )
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            for source, given, media, length in cases:
                client.upload_blob(source, content_type=given)
                request = route.calls.last.request
                assert request.headers["content-type"] == media
                assert request.headers.get("content-length") == length
                expected = b"abc" if media == "video/mp4" else png
                assert request.content == expected
            with pytest.raises(RequestValidationError):
                client.upload_blob(tmp_path / "missing.png")
            with pytest.raises(RequestValidationError):
                client.upload_blob(12345)  # type: ignore[arg-type]
        assert route.call_count == 4


def test_a_failed_upload_is_not_retried() -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/v2/consumer/blobs").respond(503)
        client = OrchestratorClient(TOKEN, base_url=BASE, sleep=lambda _: None)
        with client, pytest.raises(ServerError, match="503"):
            client.upload_blob(b"\x89PNG\r\n\x1a\n")
        assert route.call_count == 1


def test_an_archive_replaces_a_file_only_with_overwrite(tmp_path: Path) -> None:
    """The refusal names ``overwrite=True`` as the way out, and that keyword works."""
    from civitai_app_sdk.orchestrator.blobs import BlobExistsError

    existing = tmp_path / "archive.zip"
    existing.write_bytes(b"old")
    with respx.mock(base_url=BASE) as mock:
        mock.get("/v2/consumer/blobs/archive/tok").respond(
            200, content=b"new", headers={"content-type": "application/zip"}
        )
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            with pytest.raises(BlobExistsError, match="overwrite=True"):
                client.download_archive("tok", tmp_path)
            assert existing.read_bytes() == b"old"
            assert client.download_archive("tok", tmp_path, overwrite=True) == existing
        assert existing.read_bytes() == b"new"

        async def main() -> Path:
            async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
                with pytest.raises(BlobExistsError):
                    await client.download_archive("tok", existing)
                return await client.download_archive("tok", existing, overwrite=True)

        assert anyio.run(main) == existing


@pytest.mark.parametrize("change", ["grow", "shrink"])
def test_a_file_changing_size_mid_upload_is_a_typed_error(tmp_path: Path, change: str) -> None:
    """Content-Length was announced: a file that grows or shrinks meanwhile raises
    LocalFileError (a CivitaiError), not the HTTP library's protocol error."""
    from civitai_app_sdk.errors import LocalFileError

    source = tmp_path / "clip.mp4"

    def alter(sent: int, total: int | None) -> None:
        if sent == 1 << 20:
            with source.open("r+b") as handle:
                handle.truncate(1 << 20 if change == "shrink" else 4 << 20)

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/v2/consumer/blobs").respond(201, json={"type": "video", "id": "X.mp4"})
        source.write_bytes(bytes(3 << 20))
        with OrchestratorClient(TOKEN, base_url=BASE) as client, pytest.raises(LocalFileError):
            client.upload_blob(source, on_progress=alter)

        async def main() -> None:
            source.write_bytes(bytes(3 << 20))
            async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
                await client.upload_blob(source, on_progress=alter)

        with pytest.raises(LocalFileError):
            anyio.run(main)


class _FailingRead(io.RawIOBase):
    """A binary stream the OS stops reading after its first chunk (a disk error)."""

    name = "flaky.png"

    def __init__(self) -> None:
        self._reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._reads += 1
        if self._reads > 2:  # the type probe and one chunk go through
            raise OSError(5, "Input/output error")
        buffer[:8] = b"\x89PNG\r\n\x1a\n"
        return 8


def test_unreadable_upload_sources_are_typed_errors(tmp_path: Path) -> None:
    """A text-mode or closed file is refused before anything is sent; a read the OS
    refuses mid-upload is a LocalFileError (both CivitaiErrors), on both clients."""
    from civitai_app_sdk.errors import LocalFileError

    picture = tmp_path / "a.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    closed = picture.open("rb")
    closed.close()
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post("/v2/consumer/blobs").respond(201, json={"type": "image", "id": "X"})
        with OrchestratorClient(TOKEN, base_url=BASE) as client:
            with (
                picture.open(encoding="latin-1") as text,
                pytest.raises(RequestValidationError, match=r"text mode.*'rb'"),
            ):
                client.upload_blob(text)  # type: ignore[arg-type]
            with pytest.raises(RequestValidationError, match="closed file"):
                client.upload_blob(closed)
            with pytest.raises(LocalFileError, match=r"cannot read flaky\.png"):
                client.upload_blob(_FailingRead(), content_type="image/png")  # type: ignore[arg-type]

        async def main() -> None:
            async with AsyncOrchestratorClient(TOKEN, base_url=BASE) as client:
                with (
                    picture.open(encoding="latin-1") as text,
                    pytest.raises(RequestValidationError, match="text mode"),
                ):
                    await client.upload_blob(text)  # type: ignore[arg-type]
                with pytest.raises(LocalFileError, match=r"cannot read flaky\.png"):
                    await client.upload_blob(_FailingRead(), content_type="image/png")  # type: ignore[arg-type]

        anyio.run(main)
        assert route.call_count == 0  # nothing reached the server
