"""`python -m codegen specs | generate | check | drift OLD NEW | drift-live`."""

from __future__ import annotations

import argparse
import os
import sys
import time

from codegen import changelog, drift, inputs, normalize, operations, pipeline


def cmd_specs(args: argparse.Namespace) -> int:
    entries = inputs.read_lock()
    if args.live:
        changed = inputs.fill_from_live(entries)
        print(f"specs: downloaded; lock updated for: {', '.join(changed) or 'nothing'}")
        for entry in entries.values():
            if entry.file in changed and entry.pinned_url:
                print(
                    f"specs: {entry.file}: its pinned_url named the previous version and was "
                    "removed from specs/lock.json; add a commit-pinned URL of the new file",
                    file=sys.stderr,
                )
        return 0
    report = inputs.fill_pinned(entries)
    print(
        f"specs: {len(entries)} pinned inputs ({len(report.copied)} copied from "
        f"{inputs.SHARED_SPECS}, {len(report.downloaded)} downloaded, sha256 checked)"
    )
    for name in report.unpublished:
        print(f"specs: {name} has no published file; codegen keeps the committed output")
    for name, reason in report.unreachable.items():
        print(f"specs: {name} unavailable ({reason})", file=sys.stderr)
    if report.unreachable and not args.optional:
        print(
            "specs: put the shared specs beside the project (../shared/specs), set "
            "CIVITAI_SHARED_SPECS, or retry with network access.",
            file=sys.stderr,
        )
        return 3
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    entries = inputs.read_lock()
    generation = pipeline.generate(entries)
    try:
        recorded = changelog.record_spec_change(entries, pipeline.OUTPUT_DIR / "models.py")
    except changelog.ChangelogError as error:
        print(f"error: CHANGELOG.md: {error}", file=sys.stderr)
        return 2
    changed = pipeline.write(generation)
    for note in (*generation.notes, *recorded):
        print(f"note: {note}", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(f"codegen: {len(generation.files)} files, {len(changed)} changed, {elapsed:.1f} s")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    entries = inputs.read_lock()
    spec = entries["orchestrator"]
    if not inputs.is_present(spec):
        state = "is not the pinned version" if spec.path.is_file() else "is missing"
        print(
            f"codegen-check: skipped, specs/{spec.file} {state}: "
            "run `make specs` (needs ../shared/specs or network access).",
            file=sys.stderr,
        )
        return 1 if os.environ.get("CI") == "true" else 0
    generation = pipeline.generate(entries)
    stale = pipeline.differences(generation)
    if stale:
        print(
            "codegen-check: generated/ differs from a fresh generation in: "
            f"{', '.join(stale)}. Run `make codegen` and commit the result "
            "(never edit generated files by hand).",
            file=sys.stderr,
        )
        return 1
    gaps = operations.client_gaps(generation.methods)
    if gaps:
        print(
            "codegen-check: operations without a client method: " + "; ".join(gaps),
            file=sys.stderr,
        )
        return 1
    print(
        f"codegen-check: generated/ matches a fresh generation ({len(generation.files)} files); "
        f"all {len(generation.methods)} operations have methods on both clients"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    specs = sub.add_parser(
        "specs", help="fill specs/ from ../shared/specs or the pinned URLs (or --live)"
    )
    specs.add_argument("--live", action="store_true", help="download and update the lock")
    specs.add_argument(
        "--optional", action="store_true", help="exit 0 when an input cannot be fetched"
    )
    specs.set_defaults(func=cmd_specs)
    sub.add_parser("generate", help="regenerate generated/").set_defaults(func=cmd_generate)
    sub.add_parser("check", help="fail when generated/ is stale").set_defaults(func=cmd_check)
    drift.add_commands(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        # A usage error exits 2, which the drift commands use for "breaking".
        words = sys.argv[1:] if argv is None else argv
        if stop.code == 2 and next(iter(words), "") in drift.COMMANDS:
            return drift.EXIT_ERROR
        raise
    try:
        code: int = args.func(args)
    except (inputs.SpecInputError, normalize.GenerationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
