"""The real chat templates of popular model families render to their documented prompts.

The templates in tests/chat_templates/ are the exact text the models ship
(``tokenizer.chat_template``); see the README there for where each came from. Every case
renders the same conversation and must give, character for character, the prompt format
that family documents, from the model's own template (``source == "gguf"``): a fallback
would mean Hearth's sandbox could not run a real template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from desktop.engine.chat_template import _compiled, render_prompt
from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model

TEMPLATES = Path(__file__).parent / "chat_templates"

SYSTEM = ChatMessage("system", "You are terse.")
CONVERSATION = [
    ChatMessage("user", "Hi there"),
    ChatMessage("assistant", "Hello!"),
    ChatMessage("user", "Name a colour."),
]
# Llama 3.x writes today's date into its system block: the expected text holds this mark,
# and the rendered date is checked and replaced by it (see _undated).
DATE = "<DATE>"
# Qwen2.5 and Qwen3 both write ChatML.
CHATML_EXPECTED = (
    "<|im_start|>system\nYou are terse.<|im_end|>\n"
    "<|im_start|>user\nHi there<|im_end|>\n"
    "<|im_start|>assistant\nHello!<|im_end|>\n"
    "<|im_start|>user\nName a colour.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


@dataclass(frozen=True)
class Family:
    name: str  # the file tests/chat_templates/<name>.jinja
    architecture: str  # general.architecture of the family's GGUFs
    bos: str  # the model's BOS and EOS token texts, as the engine passes them
    eos: str
    system: bool  # whether the template accepts a system turn
    expected: str  # the documented prompt for [SYSTEM if system] + CONVERSATION

    @property
    def template(self) -> str:
        return (TEMPLATES / f"{self.name}.jinja").read_text(encoding="utf-8")

    @property
    def messages(self) -> list[ChatMessage]:
        return [SYSTEM, *CONVERSATION] if self.system else list(CONVERSATION)


FAMILIES = [
    Family(
        "llama3",
        "llama",
        "<|begin_of_text|>",
        "<|eot_id|>",
        True,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\n"
        "Today Date: <DATE>\n\n"
        "You are terse.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    Family(
        "qwen2_5",
        "qwen2",
        "",
        "<|im_end|>",
        True,
        CHATML_EXPECTED,
    ),
    Family(
        "mistral_nemo",
        "llama",
        "<s>",
        "</s>",
        True,
        # Mistral has no system turn: the template puts the system prompt in the last user turn.
        "<s>[INST]Hi there[/INST]Hello!</s>[INST]You are terse.\n\nName a colour.[/INST]",
    ),
    Family(
        "gemma2",
        "gemma2",
        "<bos>",
        "<eos>",
        False,  # the template raises 'System role not supported'
        "<bos><start_of_turn>user\nHi there<end_of_turn>\n"
        "<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nName a colour.<end_of_turn>\n"
        "<start_of_turn>model\n",
    ),
    Family(
        "phi3_5",
        "phi3",
        "<s>",
        "<|endoftext|>",
        True,
        "<|system|>\nYou are terse.<|end|>\n"
        "<|user|>\nHi there<|end|>\n"
        "<|assistant|>\nHello!<|end|>\n"
        "<|user|>\nName a colour.<|end|>\n"
        "<|assistant|>\n",
    ),
    Family(
        "qwen3",
        "qwen3",
        "",
        "<|im_end|>",
        True,
        CHATML_EXPECTED,
    ),
    Family(
        "deepseek_r1_distill",
        "qwen2",
        "<｜begin▁of▁sentence｜>",
        "<｜end▁of▁sentence｜>",
        True,
        # The system prompt goes bare after BOS; the generation prompt opens the thinking.
        "<｜begin▁of▁sentence｜>You are terse."
        "<｜User｜>Hi there"
        "<｜Assistant｜>Hello!<｜end▁of▁sentence｜>"
        "<｜User｜>Name a colour."
        "<｜Assistant｜><think>\n",
    ),
]
BY_NAME = {f.name: f for f in FAMILIES}


def _undated(text: str) -> str:
    """``text`` with Llama 3's 'Today Date: 27 Nov 2026' line checked and its date replaced by DATE."""
    found = re.search(r"Today Date: ([^\n]*)\n", text)
    if found is None:
        return text
    date = found.group(1)
    # The right format ("%d %b %Y", from strftime_now), and today's date (give or take a
    # midnight passing during the test): not a fixed date that a template fell back to.
    day = datetime.strptime(date, "%d %b %Y").date()
    assert abs(day - datetime.now().date()) <= timedelta(days=1), date
    return text[: found.start(1)] + DATE + text[found.end(1) :]


def test_every_family_has_its_template_file() -> None:
    shipped = {p.stem for p in TEMPLATES.glob("*.jinja")}
    assert shipped == set(BY_NAME)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_real_template_renders_the_documented_prompt(family: Family) -> None:
    rendered = render_prompt(
        family.messages,
        template=family.template,
        architecture=family.architecture,
        bos_token=family.bos,
        eos_token=family.eos,
        add_generation_prompt=True,
    )
    assert (rendered.source, rendered.note) == ("gguf", None)
    assert _undated(rendered.text) == family.expected


def test_a_template_is_compiled_once_and_each_conversation_rendered_afresh() -> None:
    """Every chat turn renders the model's template (twice more to prepare the next turn):
    it is compiled on the first render only (Qwen3's takes about 30 ms to compile and 0.3 ms
    to render), and nothing of one render reaches the next."""
    family = next(f for f in FAMILIES if f.name == "qwen3")

    def render(messages: list[ChatMessage]) -> str:
        return render_prompt(
            messages, template=family.template, architecture=family.architecture, bos_token=family.bos
        ).text

    _compiled.cache_clear()
    whole = render(family.messages)
    short = render(CONVERSATION[:1])
    again = render(family.messages)
    assert (_compiled.cache_info().misses, _compiled.cache_info().hits) == (1, 2)
    assert again == whole == family.expected
    assert short == "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"


def test_what_transformers_adds_to_jinja_renders() -> None:
    """Templates are written for transformers, whose Jinja has loop controls, a
    ``{% generation %}`` tag and a ``tojson`` that does not escape for HTML (tool lists)."""
    template = (
        "{% for m in messages %}{% if m.role == 'assistant' %}"
        "{% generation %}<|assistant|>{{ m.content }}<|end|>{% endgeneration %}"
        "{% else %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endif %}"
        "{% if loop.index == 2 %}{% break %}{% endif %}{% endfor %}"
        "<|json|>{{ messages[-1] | tojson }}<|assistant|>"
    )
    messages = [*CONVERSATION[:2], ChatMessage("user", "Un café <b> & 'lait'?")]
    rendered = render_prompt(messages, template=template, architecture="llama")
    assert (rendered.source, rendered.note) == ("gguf", None)
    assert rendered.text == (
        "<|user|>Hi there<|end|><|assistant|>Hello!<|end|>"
        '<|json|>{"role": "user", "content": "Un café <b> & \'lait\'?"}<|assistant|>'
    )


def test_llama3_date_is_the_only_part_that_changes() -> None:
    family = BY_NAME["llama3"]
    text = render_prompt(
        family.messages, template=family.template, architecture="llama", bos_token=family.bos
    ).text
    assert text.count("Today Date: ") == 1
    assert DATE not in text  # a real date was written, not left to the test's mark


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "qwen3",
            "<|im_start|>system\nYou are terse.<|im_end|>\n"
            "<|im_start|>user\nHi there<|im_end|>\n"
            "<|im_start|>assistant\nAnswer<|im_end|>\n"
            "<|im_start|>user\nName a colour.<|im_end|>\n"
            "<|im_start|>assistant\n",
        ),
        (
            "deepseek_r1_distill",
            "<｜begin▁of▁sentence｜>You are terse."
            "<｜User｜>Hi there"
            "<｜Assistant｜>Answer<｜end▁of▁sentence｜>"
            "<｜User｜>Name a colour."
            "<｜Assistant｜><think>\n",
        ),
    ],
)
def test_reasoning_templates_drop_earlier_thinking(name: str, expected: str) -> None:
    family = BY_NAME[name]
    messages = [
        SYSTEM,
        ChatMessage("user", "Hi there"),
        ChatMessage("assistant", "<think>private</think>Answer"),
        ChatMessage("user", "Name a colour."),
    ]
    rendered = render_prompt(
        messages,
        template=family.template,
        architecture=family.architecture,
        bos_token=family.bos,
        eos_token=family.eos,
    )
    assert (rendered.source, rendered.note) == ("gguf", None)
    assert "private" not in rendered.text
    assert "Answer" in rendered.text
    assert rendered.text == expected


def test_qwen2_5_without_a_system_prompt_gets_its_default_one() -> None:
    rendered = render_prompt(
        CONVERSATION, template=BY_NAME["qwen2_5"].template, architecture="qwen2", eos_token="<|im_end|>"
    )
    assert (rendered.source, rendered.note) == ("gguf", None)
    assert rendered.text == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHi there<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nName a colour.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_gemma2_with_a_system_prompt_falls_back_to_the_gemma_format() -> None:
    # Gemma's own template refuses a system turn; Hearth's Gemma fallback folds the system
    # prompt into the first user turn, as Google advises, and says so.
    family = BY_NAME["gemma2"]
    rendered = render_prompt(
        [SYSTEM, *CONVERSATION],
        template=family.template,
        architecture="gemma2",
        bos_token=family.bos,
        eos_token=family.eos,
    )
    assert rendered.source == "fallback:gemma"
    assert rendered.note and "System role not supported" in rendered.note
    assert rendered.text == (
        "<bos><start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n"
        "<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nName a colour.<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def test_the_engine_renders_the_same_prompts(tmp_path: Path) -> None:
    """Each template inside a real GGUF, rendered by the engine worker (one worker for all).

    The tiny model's vocabulary has BOS '<s>' and EOS '</s>', so the engine passes those:
    a family whose template writes its BOS gets '<s>' in its place.
    """
    tiny_bos = "<s>"
    models = {
        f.name: build_tiny_model(tmp_path / f"{f.name}.gguf", TinyModelSpec(chat_template=f.template))
        for f in FAMILIES
    }
    got: dict[str, tuple[str, str, str | None, bool]] = {}
    want: dict[str, tuple[str, str, str | None, bool]] = {}
    client = EngineClient()
    try:
        for family in FAMILIES:
            rendered = client.render(str(models[family.name]), family.messages)
            got[family.name] = (
                _undated(rendered.prompt),
                rendered.template_source,
                rendered.note,
                rendered.bos_added,
            )
            expected = family.expected
            if family.bos and expected.startswith(family.bos):
                expected = tiny_bos + expected.removeprefix(family.bos)
            # The engine adds BOS itself only where the template did not write it: never twice.
            want[family.name] = (expected, "gguf", None, not expected.startswith(tiny_bos))
    finally:
        client.shutdown()
    assert got == want
