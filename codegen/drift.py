"""Semantic diff of two orchestrator specs (placeholder, filled below)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `drift` and `drift-live`."""
