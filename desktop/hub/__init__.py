"""Qt-free access to the Hugging Face Hub: search, repo files, downloads (huggingface_hub only)."""

from __future__ import annotations

import os

# Hearth sends nothing the user did not ask for. Set before huggingface_hub is imported,
# since it reads its environment once, at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
