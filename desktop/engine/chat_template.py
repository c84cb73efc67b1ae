"""Turning a conversation into the exact prompt text a model expects.

The model's own template (``tokenizer.chat_template``) is rendered in a Jinja sandbox, as
llama.cpp's Python binding does since CVE-2024-34359: a template cannot reach files,
attributes or the interpreter. Templates are written for Hugging Face transformers, so the
sandbox has what transformers adds to Jinja: ``{% break %}`` and ``{% continue %}``, the
``{% generation %}`` tag (training-time markup, rendered as its content) and a ``tojson``
that writes JSON as ``json.dumps`` does (Jinja's own escapes ``<``, ``>``, ``&`` and ``'``
for HTML). A model without a template, or whose template fails to render, gets a fallback
chosen by architecture, and the caller is told which.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NoReturn

from jinja2 import Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame, operators
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension, loopcontrols
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.visitor import NodeTransformer

from desktop.engine import template_budget as tb
from desktop.engine.protocol import ChatMessage
from desktop.engine.tool_calls import template_messages
from desktop.gguf.reasoning import answer_only, template_handles_reasoning

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Gemma has no system role: a system prompt goes in front of the first user turn.
GEMMA = (
    "{{ bos_token }}{% set sys = namespace(text='') %}"
    "{% for m in messages %}{% if m.role == 'system' %}{% set sys.text = m.content + '\n\n' %}"
    "{% else %}<start_of_turn>{{ 'model' if m.role == 'assistant' else 'user' }}\n"
    "{% if loop.index0 <= 1 and m.role == 'user' %}{{ sys.text }}{% endif %}"
    "{{ m.content | trim }}<end_of_turn>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)

FALLBACKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "chatml": (CHATML, ("<|im_end|>", "<|im_start|>")),
    "gemma": (GEMMA, ("<end_of_turn>", "<start_of_turn>")),
}


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    source: str  # "gguf" or "fallback:<name>"
    stop_strings: tuple[str, ...]
    note: str | None  # set when a fallback was used


def fallback_for(architecture: str | None) -> str:
    if architecture and architecture.startswith("gemma"):
        return "gemma"
    return "chatml"


def _raise(message: str) -> NoReturn:
    raise TemplateError(message)


class _Budgeted(NodeTransformer):
    """Every ``{% for %}`` loop iterates through ``template_budget.budgeted_iter``."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _ITER_FILTER, [], [], None, None, lineno=node.lineno)
        return node


_ITER_FILTER = "hearth_budgeted_iter"


class _BudgetCodeGenerator(CodeGenerator):
    """``a ~ b`` joins through the budget (Jinja's own ``str_join`` would join any size), and
    each side of a comparison is measured first (``template_budget.operand``)."""

    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        self.write("(environment.budget_operand(")
        self.visit(node.expr, frame)
        self.write(")")
        for op in node.ops:
            self.visit(op, frame)
        self.write(")")

    def visit_Operand(self, node: nodes.Operand, frame: Frame) -> None:
        check = "budget_container" if node.op in ("in", "notin") else "budget_operand"
        self.write(f" {operators[node.op]} environment.{check}(")
        self.visit(node.expr, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.budget_str_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _StrictSandbox(ImmutableSandboxedEnvironment):
    """Reaching for an unsafe attribute is an error at once, not a silent empty value; and
    every call, loop iteration, growing operator and joined buffer counts against the
    render's budget (``template_budget``). Attribute lookups do not tick the clock: without
    a loop or a call, a template does as many as its text has, and both of those tick."""

    code_generator_class = _BudgetCodeGenerator
    intercepted_binops = frozenset({"*", "+", "%", "**"})
    concat = staticmethod(tb.budgeted_concat)
    budget_str_join = staticmethod(tb.str_join)
    budget_operand = staticmethod(tb.operand)
    budget_container = staticmethod(tb.container)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"the template tried to reach {attribute!r} of a {type(obj).__name__}")

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        result: nodes.Template = _Budgeted().visit(tree)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        tb.tick()
        tb.binop_size(operator, left, right)
        return self.binop_table[operator](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"{__obj!r} is not safely callable")
        return tb.context_call(__context, __obj, args, kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        is_map = value.__name__ == "format_map"

        def measured(*args: Any, **kwargs: Any) -> str:
            formatter = tb.BudgetFormatter(SandboxedFormatter(self))
            if not is_map:
                return type(text)(formatter.vformat(text, args, kwargs))
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument")
            return type(text)(formatter.vformat(text, (), args[0]))

        return measured


class _GenerationTag(Extension):
    """``{% generation %}…{% endgeneration %}``: transformers marks the assistant's part with it
    for training masks; a prompt is its content."""

    tags = {"generation"}  # noqa: RUF012 (Jinja reads a tag set from the class)

    def parse(self, parser: Parser) -> list[nodes.Node]:
        next(parser.stream)  # the tag's name
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    tb.tojson_size(value, indent, separators)
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


@functools.cache
def _environment() -> ImmutableSandboxedEnvironment:
    env = _StrictSandbox(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, _GenerationTag])
    env.filters["tojson"] = _tojson
    env.filters = tb.budgeted_filters(env.filters)
    env.filters[_ITER_FILTER] = tb.budgeted_iter
    env.finalize = tb.check_weight_of
    env.globals.pop("lipsum", None)  # n paragraphs of filler: of no use to a prompt
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


@functools.lru_cache(maxsize=8)
def _compiled(template: str) -> Template:
    """The template compiled once: compiling a real one takes 4-36 ms, rendering it 0.03-0.45
    ms, and every chat turn renders it (more than once when turns are dropped to fit)."""
    return _environment().from_string(template)


def _render(
    template: str,
    messages: Sequence[ChatMessage],
    add_generation_prompt: bool,
    tools: Sequence[dict[str, Any]] | None = None,
    **tokens: str,
) -> str:
    as_dicts = template_messages(messages)
    extra: dict[str, Any] = {"tools": list(tools)} if tools else {}
    given = sum(len(m.content) + sum(len(c.arguments) for c in m.tool_calls) for m in messages)
    with tb.budget(given + (len(json.dumps(extra)) if extra else 0)):
        return _compiled(template).render(
            messages=as_dicts, add_generation_prompt=add_generation_prompt, **extra, **tokens
        )


# Templates that ran out of time once: every later turn goes straight to the fallback
# rather than spending the whole budget again before each reply.
_too_slow: dict[str, str] = {}


def render_prompt(
    messages: Sequence[ChatMessage],
    *,
    template: str | None,
    architecture: str | None,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
    tools: Sequence[dict[str, Any]] | None = None,
) -> RenderedPrompt:
    """The prompt; ``tools`` (OpenAI's entries) are handed to a template that reads them."""
    note: str | None
    if template and template in _too_slow:
        note = _too_slow[template]
    elif template:
        try:
            text = _render(
                template, messages, add_generation_prompt, tools, bos_token=bos_token, eos_token=eos_token
            )
            return RenderedPrompt(text, "gguf", (), None)
        except tb.TemplateBudgetExceeded as exc:
            note = f"The model's chat template {exc}"
            if isinstance(exc, tb.TooLong):
                if len(_too_slow) >= 8:
                    _too_slow.pop(next(iter(_too_slow)))
                _too_slow[template] = note
        except MemoryError:
            note = f"The model's chat template {tb.TooLarge()}"
        except Exception as exc:  # a template is foreign code: any failure means fall back
            note = f"The model's chat template failed ({type(exc).__name__}: {exc})"
    else:
        note = "This model has no chat template"
    name = fallback_for(architecture)
    fallback, stops = FALLBACKS[name]
    text = _render(fallback, messages, add_generation_prompt, bos_token=bos_token, eos_token=eos_token)
    return RenderedPrompt(text, f"fallback:{name}", stops, f"{note}; Hearth is using the {name} format.")


def build_prompt(
    llm: Any,
    template: str | None,
    architecture: str | None,
    messages: list[ChatMessage],
    add_generation_prompt: bool = True,
    tools: Sequence[dict[str, Any]] | None = None,
) -> tuple[RenderedPrompt, bool]:
    """The exact prompt text for ``messages``, and whether the engine adds BOS in front of it."""
    model = llm._model
    bos_text = model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
    eos_text = model.token_get_text(llm.token_eos()) if llm.token_eos() >= 0 else ""
    if not template_handles_reasoning(template):
        # Thinking stays out of later prompts unless the template decides what to keep.
        messages = [
            replace(m, content=answer_only(m.content)) if m.role == "assistant" else m for m in messages
        ]
    prompt = render_prompt(
        messages,
        template=template,
        architecture=architecture,
        bos_token=bos_text,
        eos_token=eos_text,
        add_generation_prompt=add_generation_prompt,
        tools=tools,
    )
    add_bos = bool(model.add_bos_token()) and not (bos_text and prompt.text.startswith(bos_text))
    return prompt, add_bos
