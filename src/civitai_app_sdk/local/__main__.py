"""``python -m civitai_app_sdk.local``: the same as ``civitai-orch serve-local``."""

from civitai_app_sdk.cli.serve_local import serve_local

if __name__ == "__main__":
    serve_local(prog_name="python -m civitai_app_sdk.local")
