"""A starter web app: sign in with Civitai, see your Buzz, generate images, keep a history.

``python -m examples.webapp`` (``make webapp``) runs it offline against the local
orchestrator and OAuth server; :func:`create_app` builds it for any deployment.
"""

from .app import WebappSettings, create_app

__all__ = ["WebappSettings", "create_app"]
