"""Listing (filters, cursor), tags, steps and blobs over HTTP."""

from __future__ import annotations

import io
import wave

import httpx
from local_helpers import text_to_image

from civitai_app_sdk.local import ManualClock

WORKFLOWS = "/v2/consumer/workflows"


def submit(api: httpx.Client, **extra: object) -> str:
    return str(api.post(WORKFLOWS, json=text_to_image(**extra)).json()["id"])


def ids(api: httpx.Client, **params: object) -> list[str]:
    return [w["id"] for w in api.get(WORKFLOWS, params=params).json()["items"]]


def test_listing_pages_newest_first_with_a_next_cursor(
    api: httpx.Client, clock: ManualClock
) -> None:
    submitted = []
    for _ in range(5):
        submitted.append(submit(api))
        clock.advance(0.01)
    first = api.get(WORKFLOWS, params={"take": 2}).json()
    assert [w["id"] for w in first["items"]] == submitted[:-3:-1]
    seen = [w["id"] for w in first["items"]]
    cursor = first["next"]
    for _ in range(5):
        if not cursor:
            break
        page = api.get(WORKFLOWS, params={"take": 2, "cursor": cursor}).json()
        seen += [w["id"] for w in page["items"]]
        cursor = page["next"]
    assert seen == submitted[::-1]
    assert ids(api, ascending="true") == submitted


def test_listing_after_a_delete_loses_nothing(api: httpx.Client, clock: ManualClock) -> None:
    submitted = []
    for _ in range(3):
        submitted.append(submit(api))
        clock.advance(0.01)
    assert api.delete(f"{WORKFLOWS}/{submitted.pop(0)}").status_code == 204
    submitted.append(submit(api))
    seen, cursor = [], None
    for _ in range(5):
        params: dict[str, object] = {"take": 1} | ({"cursor": cursor} if cursor else {})
        page = api.get(WORKFLOWS, params=params).json()
        seen += [w["id"] for w in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == submitted[::-1]


def test_listing_filters(api: httpx.Client, clock: ManualClock) -> None:
    red = submit(api, tags=["red", "big"], metadata={"project": "Apollo"})
    clock.advance(10)
    blue = submit(api, tags=["blue", "big"])
    api.put(f"{WORKFLOWS}/{blue}", json={"status": "canceled"})
    assert ids(api, tags=["big"]) == [blue, red]
    assert ids(api, tags=["big", "red"]) == [red]
    assert ids(api, query="apollo") == [red]
    assert ids(api, excludeFailed="true") == [red]
    assert ids(api, fromDate="2027-01-15T08:00:05Z") == [blue]
    assert ids(api, toDate="2027-01-15T08:00:05Z") == [red]
    assert api.get(WORKFLOWS, params={"take": "x"}).status_code == 400


def test_listing_checks_its_filters_even_with_nothing_to_list(api: httpx.Client) -> None:
    for params in ({"fromDate": "nope"}, {"toDate": "x"}, {"excludeFailed": "maybe"}):
        response = api.get(WORKFLOWS, params=params)
        assert response.status_code == 400
        assert next(iter(params)) in response.json()["errors"]


def test_tags_add_and_remove(api: httpx.Client) -> None:
    workflow_id = submit(api, tags=["a"])
    url = f"{WORKFLOWS}/{workflow_id}"
    assert api.post(f"{url}/tags", json="project:x").status_code == 204
    assert api.post(f"{url}/tags", json={"not": "a string"}).status_code == 400
    assert api.get(url).json()["tags"] == ["a", "project:x"]
    assert api.delete(f"{url}/tags/project%3Ax").status_code == 204
    assert api.get(url).json()["tags"] == ["a"]
    assert api.delete(f"{url}/tags").status_code == 204
    assert api.get(url).json()["tags"] == []


def test_a_tag_with_a_slash_is_removed_by_its_escaped_path(api: httpx.Client) -> None:
    workflow_id = submit(api, tags=["a/b", "a"])
    url = f"{WORKFLOWS}/{workflow_id}"
    assert api.delete(f"{url}/tags/a%2Fb").status_code == 204
    assert api.get(url).json()["tags"] == ["a"]


def test_patch_cancels_and_edits_metadata(api: httpx.Client) -> None:
    url = f"{WORKFLOWS}/{submit(api)}"
    patch = [
        {"op": "add", "path": "/metadata/owner", "value": "me"},
        {"op": "replace", "path": "/status", "value": "canceled"},
    ]
    assert api.patch(url, json=patch).status_code == 204
    body = api.get(url).json()
    assert (body["status"], body["metadata"]) == ("canceled", {"owner": "me"})
    assert api.patch(url, json=[{"op": "move", "path": "/x"}]).status_code == 400


def test_steps_get_and_update(api: httpx.Client) -> None:
    url = f"{WORKFLOWS}/{submit(api)}/steps"
    step = api.get(f"{url}/%240").json()
    assert (step["$type"], step["name"], step["status"]) == ("textToImage", "$0", "unassigned")
    assert api.put(f"{url}/%240", json={"metadata": {"k": 1}}).status_code == 204
    assert api.get(f"{url}/%240").json()["metadata"] == {"k": 1}
    assert api.get(f"{url}/nope").status_code == 404


def finished(api: httpx.Client, step: dict[str, object]) -> dict[str, object]:
    body = {"currencies": [], "steps": [step]}
    response = api.post(WORKFLOWS, params={"wait": 60}, json=body)
    assert response.json()["status"] == "succeeded"
    output: dict[str, object] = response.json()["steps"][0]["output"]
    return output


def test_image_blob_redirects_to_png_content(api: httpx.Client) -> None:
    output = finished(api, text_to_image()["steps"][0])
    image = output["images"][0]  # type: ignore[index]
    get = api.get(f"/v2/consumer/blobs/{image['id']}")
    assert get.status_code == 308
    content = api.get(get.headers["location"])
    assert content.headers["content-type"] == "image/png"
    assert content.content.startswith(b"\x89PNG")
    signed = httpx.get(image["url"], follow_redirects=True)
    assert signed.content == content.content
    assert api.head(f"/v2/consumer/blobs/{image['id']}").status_code == 204
    assert api.head("/v2/consumer/blobs/NOPE.png").status_code == 404
    assert httpx.get(image["url"].replace("sig=", "sig=x")).status_code == 401


def test_video_and_audio_steps_make_mp4_and_wav(api: httpx.Client) -> None:
    video = finished(
        api,
        {
            "$type": "videoGen",
            "input": {"engine": "veo3", "prompt": "waves", "generateAudio": False},
        },
    )["video"]
    data = httpx.get(video["url"], follow_redirects=True)  # type: ignore[index]
    assert data.headers["content-type"] == "video/mp4"
    assert data.content[4:8] == b"ftyp"
    speech_input = {"engine": "vllm-omni", "ecosystem": "omnivoice", "text": "hello"}
    speech = {"$type": "textToSpeech", "input": speech_input}
    audio = finished(api, speech)["audioBlob"]
    wav = httpx.get(audio["url"], follow_redirects=True)  # type: ignore[index]
    assert wav.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as reader:
        assert reader.getnframes() > 0


def test_blob_of_an_unfinished_step_is_not_found(api: httpx.Client, server: object) -> None:
    workflow_id = submit(api)
    store = server.state.store  # type: ignore[attr-defined]
    blob_id = store.workflows[workflow_id].blobs[0][0].id
    assert api.get(f"/v2/consumer/blobs/{blob_id}").status_code == 404
