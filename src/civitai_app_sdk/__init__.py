"""Typed Python SDK for Civitai: OAuth, the Orchestration API and App Blocks."""

__version__ = "0.1.0"
