"""What a newcomer meets first: serve-local's export lines, `estimate --prompt`, and a
clear install line when the [local] extra is missing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from civitai_app_sdk.cli.serve_local import LOCAL_TOKEN, export_lines

Run = Callable[..., Result]
EXPORT = re.compile(r"^export CIVITAI_API_URL=(\S+) CIVITAI_API_TOKEN=(\S+)$", re.MULTILINE)
# Runs `code` in a fresh interpreter where starlette cannot be imported.
WITHOUT_STARLETTE = "import sys; sys.modules['starlette'] = None; "


def test_serve_local_prints_export_lines_that_the_cli_can_use(run: Run) -> None:
    command = [sys.executable, "-c", "from civitai_app_sdk.cli import main; main()", "serve-local",
               "--port", "0"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, env=env) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            printed = server.stdout.readline() + server.stdout.readline()
            found = EXPORT.search(printed)
            assert found is not None, printed
            url, token = found.groups()
            assert url.startswith("http://127.0.0.1:")
            assert token == LOCAL_TOKEN
            result = run(
                "estimate", "--prompt", "a lighthouse at dusk", "--json",
                env={"CIVITAI_API_URL": url, "CIVITAI_API_TOKEN": token},
            )  # fmt: skip
            assert result.exit_code == 0, result.stderr
            assert json.loads(result.stdout)["cost"]["total"] > 0
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_export_lines_never_echo_a_given_token() -> None:
    line = export_lines("http://127.0.0.1:9", token_given=True).splitlines()[-1]
    assert (
        line == "export CIVITAI_API_URL=http://127.0.0.1:9 CIVITAI_API_TOKEN='<the --token value>'"
    )


@pytest.mark.parametrize(
    "args", [("estimate",), ("estimate", "body.json", "--prompt", "x")], ids=["neither", "both"]
)
def test_estimate_needs_exactly_one_of_file_and_prompt(
    run: Run, tmp_path: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "body.json").write_text("{}")
    result = run(*args, env={"CIVITAI_API_TOKEN": "t"})
    assert result.exit_code == 2
    assert "FILE or --prompt" in result.output


@pytest.mark.parametrize(
    "code",
    [
        "from civitai_app_sdk.cli import main; main(['serve-local'])",
        "from civitai_app_sdk.demo import main; sys.exit(main([]))",
    ],
    ids=["serve-local", "demo"],
)
def test_without_the_local_extra_the_install_line_is_shown(code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_STARLETTE + code],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "pip install 'civitai-app-sdk[local]'" in output
    assert "Traceback" not in output
    assert "ModuleNotFoundError" not in output
