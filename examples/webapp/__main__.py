"""``make webapp``: the starter app on http://127.0.0.1:8000, offline, in one command."""

from __future__ import annotations

import argparse

from .local import LocalStack


def main() -> None:
    """Start the local services and the app; print the URL to open."""
    parser = argparse.ArgumentParser(prog="python -m examples.webapp", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="port of the app (0: any free)")
    args = parser.parse_args()
    try:
        stack = LocalStack(port=args.port)
    except OSError as exc:  # the port is taken, or not ours to bind
        parser.exit(
            1,
            f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): pick another port "
            "(make webapp PORT=8080), or 0 for any free one\n",
        )
    print(f"Starter app: open {stack.url}/ (local services on {stack.services.url})", flush=True)
    print("Sign in, approve on the consent page, then generate. Ctrl-C stops.", flush=True)
    stack.serve()


if __name__ == "__main__":
    main()
