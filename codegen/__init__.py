"""Build-time code generation for civitai-app-sdk (never imported at run time)."""
