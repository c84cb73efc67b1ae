"""What the Server page offers to copy: how a program reaches the server, as text to paste."""

from __future__ import annotations

import json
from dataclasses import dataclass

KEY_PLACEHOLDER = "YOUR-API-KEY"


@dataclass(frozen=True)
class Snippet:
    title: str
    text: str


def snippets(url: str, model_id: str, *, needs_key: bool) -> list[Snippet]:
    """curl, Python's openai client and an editor extension's settings (Continue's), for
    ``model_id`` at ``url``; the key as a placeholder (it is shown once, not kept on screen)."""
    key = KEY_PLACEHOLDER if needs_key else "hearth"  # the openai client wants some key
    auth = f' \\\n  -H "Authorization: Bearer {KEY_PLACEHOLDER}"' if needs_key else ""
    body = json.dumps({"model": model_id, "messages": [{"role": "user", "content": "Hello!"}]})
    curl = (
        f"curl {url}/v1/chat/completions \\\n  -H \"Content-Type: application/json\"{auth} \\\n  -d '{body}'"
    )
    python = (
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{url}/v1", api_key="{key}")\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{model_id}",\n'
        '    messages=[{"role": "user", "content": "Hello!"}],\n'
        ")\n"
        "print(reply.choices[0].message.content)\n"
    )
    continue_yaml = (
        "# Continue (VS Code, JetBrains): config.yaml\n"
        "models:\n"
        f"  - name: {model_id} (Hearth)\n"
        "    provider: openai\n"
        f"    model: {model_id}\n"
        f"    apiBase: {url}/v1\n"
        f"    apiKey: {key}\n"
    )
    return [
        Snippet("curl", curl),
        Snippet("Python (openai)", python),
        Snippet("Editor (Continue)", continue_yaml),
    ]
