"""A chat turn's prompt from a real template: Hearth's renderer against llama-cpp-python's.

    python -m benchmarks.template_render [--turns 10]

For each real template in tests/chat_templates/ (Llama 3.2, Qwen2.5, Qwen3, Mistral Nemo,
Gemma 2, Phi-3.5, DeepSeek-R1 distill), a conversation growing by one question and answer a
turn is rendered as the worker renders it before each reply, side by side with
llama-cpp-python's ``Jinja2ChatFormatter`` (made once, as ``Llama()`` makes it, then called
each turn). Printed: the first turn (which compiles the template: before Hearth kept the
compiled template, every turn cost this much before its first token), the median of the
later turns, and Hearth's later turns against the peer's (a ratio of time; both are tenths of
a millisecond, so a few microseconds of Hearth's own bookkeeping show as 10-20%).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from desktop.engine.chat_template import _compiled, render_prompt
from desktop.engine.protocol import ChatMessage

TEMPLATES = Path(__file__).resolve().parent.parent / "tests" / "chat_templates"
ARCHITECTURES = {"gemma2": "gemma2", "phi3_5": "phi3", "mistral_nemo": "llama", "llama3": "llama"}


def conversation(turns: int) -> list[ChatMessage]:
    messages = [ChatMessage("system", "You are a helpful assistant.")]
    for n in range(turns):
        messages.append(ChatMessage("user", f"Question {n}: what is {n} times {n + 1}?"))
        messages.append(ChatMessage("assistant", f"{n} times {n + 1} is {n * (n + 1)}."))
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    print(f"{'template':22}{'first ms':>10}{'later ms':>10}{'peer ms':>10}{'ratio':>8}")
    ratios = []
    for path in sorted(TEMPLATES.glob("*.jinja")):
        template = path.read_text(encoding="utf-8")
        architecture = ARCHITECTURES.get(path.stem, "qwen2")
        system = path.stem not in ("gemma2", "mistral_nemo")  # templates that refuse one
        _compiled.cache_clear()
        peer = Jinja2ChatFormatter(template=template, eos_token="</s>", bos_token="<s>")
        ours: list[float] = []
        theirs: list[float] = []
        for turn in range(1, args.turns + 1):
            messages = conversation(turn)[:-1]  # ends with the new question
            if not system:
                messages = messages[1:]
            start = time.perf_counter()
            render_prompt(messages, template=template, architecture=architecture, bos_token="<s>")
            ours.append(time.perf_counter() - start)
            as_dicts = [{"role": m.role, "content": m.content} for m in messages]
            start = time.perf_counter()
            peer(messages=as_dicts)  # type: ignore[arg-type]
            theirs.append(time.perf_counter() - start)
        later, peer_later = statistics.median(ours[1:]), statistics.median(theirs[1:])
        ratios.append(later / peer_later)
        print(
            f"{path.stem:22}{ours[0] * 1000:10.2f}{later * 1000:10.2f}"
            f"{peer_later * 1000:10.2f}{later / peer_later:8.2f}"
        )
    ratio = statistics.median(ratios)
    print(f"median ratio of a later turn's render, Hearth / llama-cpp-python: {ratio:.2f}")


if __name__ == "__main__":
    main()
