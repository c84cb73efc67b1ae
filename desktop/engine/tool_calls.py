"""Tool calls: how a model is told about a program's tools, the grammar that makes its calls well
formed, and the calls read back out of its reply.

Each family writes calls its own way, and its chat template says which (as llama-server tells
them apart): Qwen and Hermes models ``<tool_call>{"name": …, "arguments": …}</tool_call>``,
Llama 3.x a bare ``{"name": …, "parameters": …}``, Mistral ``[TOOL_CALLS][{…}]``. A template
that knows no tools gets the generic form: the tools in the system prompt and a reply that is
JSON, ``{"tool_call": …}`` or ``{"response": …}``, held to it by a grammar from its first token.

Where the model may also answer in words (``auto``), the grammar is lazy: free text until the
family's opening marker, then the call's grammar. ``required`` and a named function start the
grammar at the first token, so even a small model returns a call that parses.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from desktop.engine.json_schema import UnsupportedSchema, check_schema
from desktop.engine.protocol import ChatMessage, Sampling, ToolCall

HERMES, LLAMA3, MISTRAL, GENERIC = "hermes", "llama3", "mistral", "generic"
CHOICES = ("auto", "none", "required")  # or a function's name
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_OPENINGS = {HERMES: "<tool_call>", MISTRAL: "[TOOL_CALLS]"}


class BadTools(ValueError):
    """A ``tools`` list the engine cannot offer; ``where`` is the field, as a JSON path."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class ToolUse:
    """The tools a reply may call (OpenAI's ``tools`` entries) and whether it must."""

    tools: tuple[dict[str, Any], ...]
    choice: str = "auto"  # one of CHOICES, or the name of the function it must call
    parallel: bool = True

    @property
    def active(self) -> bool:
        return bool(self.tools) and self.choice != "none"

    @property
    def forced(self) -> bool:
        return self.choice != "auto"

    def names(self) -> list[str]:
        return [str(tool["function"]["name"]) for tool in self.tools]


def check_tools(tools: object, where: str = "tools") -> tuple[dict[str, Any], ...]:
    """OpenAI's ``tools`` list, checked: functions with names and parameters the grammar can
    enforce (BadTools naming the first that cannot). Returns each as ``{"type", "function"}``."""
    if not isinstance(tools, list):
        raise BadTools(f"'{where}' must be a list of tools", where)
    checked = []
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        at = f"{where}[{index}]"
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise BadTools(f'\'{at}\' must be a function tool ({{"type": "function", …}})', at)
        function = tool.get("function")
        if not isinstance(function, dict):
            raise BadTools(f"'{at}.function' must be an object with a name", f"{at}.function")
        name = function.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise BadTools(
                f"'{at}.function.name' must be 1 to 64 letters, digits, '_', '.' or '-'",
                f"{at}.function.name",
            )
        if name in seen:
            raise BadTools(f"'{at}.function.name': two tools are called '{name}'", f"{at}.function.name")
        seen.add(name)
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        try:
            check_schema(parameters, f"{at}.function.parameters")
        except UnsupportedSchema as exc:
            raise BadTools(str(exc), exc.keyword) from None
        description = function.get("description")
        entry: dict[str, Any] = {"name": name}
        if isinstance(description, str):
            entry["description"] = description
        entry["parameters"] = parameters
        checked.append({"type": "function", "function": entry})
    return tuple(checked)


def tool_use(sampling: Sampling) -> ToolUse | None:
    """The sampling's tools, if it has any (their JSON was checked where the request came in)."""
    if not sampling.tools:
        return None
    return ToolUse(tuple(json.loads(sampling.tools)), sampling.tool_choice, sampling.parallel_tool_calls)


def format_for(template: str | None) -> str:
    """The family's way of writing calls, read from its chat template (as llama-server does)."""
    if not template or "tools" not in template:
        return GENERIC
    if "<tool_call>" in template:
        return HERMES
    if "[TOOL_CALLS]" in template:
        return MISTRAL
    if "<|start_header_id|>" in template:
        return LLAMA3
    return GENERIC


# --- the prompt ---------------------------------------------------------------------------


def template_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Messages as chat templates read them (Hugging Face's form): calls with their arguments
    as objects, results with the id of the call they answer. Keys only where a message has
    them: Llama 3's template asks ``'tool_calls' in message``."""
    out: list[dict[str, Any]] = []
    for m in messages:
        entry: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            entry["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": _arguments_object(call.arguments)},
                }
                for call in m.tool_calls
            ]
        if m.tool_call_id:
            entry["tool_call_id"] = m.tool_call_id
        out.append(entry)
    return out


def _arguments_object(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def generic_messages(messages: Sequence[ChatMessage], use: ToolUse | None) -> list[ChatMessage]:
    """The conversation for a template that knows no tools: the tools and the reply's form in
    the system prompt, calls written as the JSON the form uses, and results as a user's words
    (a small model given the result as JSON writes the JSON back rather than reading it)."""
    out: list[ChatMessage] = []
    called = {call.id: call.name for m in messages for call in m.tool_calls}
    for m in messages:
        if m.role == "tool":
            # Named by its tool where the call is known (Ollama sends the name in the id's place).
            tool = called.get(m.tool_call_id, m.tool_call_id)
            out.append(ChatMessage("user", f"The tool {tool} answered: {m.content}"))
        elif m.tool_calls:
            calls = [{"name": c.name, "arguments": _arguments_object(c.arguments)} for c in m.tool_calls]
            reply = {"tool_call": calls[0]} if len(calls) == 1 else {"tool_calls": calls}
            out.append(ChatMessage("assistant", json.dumps(reply, ensure_ascii=False)))
        else:
            out.append(replace(m, tool_calls=(), tool_call_id=""))
    if use is None or not use.active:
        return out
    instructions = _generic_instructions(use)
    if out and out[0].role == "system":
        out[0] = replace(out[0], content=f"{out[0].content}\n\n{instructions}")
    else:
        out.insert(0, ChatMessage("system", instructions))
    return out


def _generic_instructions(use: ToolUse) -> str:
    tools = json.dumps([t["function"] for t in _offered(use)], ensure_ascii=False, indent=2)
    if use.forced:
        form = 'Respond in JSON with "tool_call": {"name": <function name>, "arguments": <object>}.'
    else:
        form = (
            'Respond in JSON, either with "tool_call" (a request to call a tool: {"name": '
            '<function name>, "arguments": <object>}) or with "response" (your reply to the user).'
        )
    return f"You can call these tools:\n{tools}\n\n{form}"


def _offered(use: ToolUse) -> list[dict[str, Any]]:
    if use.choice in CHOICES:
        return list(use.tools)
    return [t for t in use.tools if t["function"]["name"] == use.choice]


# --- the grammar --------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolGrammar:
    gbnf: str
    trigger: str | None  # a regular expression: the grammar waits for it (lazy); None: at once


def grammar(fmt: str, use: ToolUse) -> ToolGrammar:
    """The grammar that makes the reply's calls well formed (and for a forced choice, makes it
    one), for the family's form."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    arguments_key = "parameters" if fmt == LLAMA3 else "arguments"
    calls = [
        {
            "type": "object",
            "properties": {
                "name": {"const": tool["function"]["name"]},
                arguments_key: tool["function"]["parameters"],
            },
            "required": ["name", arguments_key],
            "additionalProperties": False,
        }
        for tool in _offered(use)
    ]
    schema: dict[str, Any] = {"anyOf": calls} if len(calls) > 1 else calls[0]
    if fmt == GENERIC:
        call_form: dict[str, Any] = {
            "type": "object",
            "properties": {"tool_call": schema},
            "required": ["tool_call"],
            "additionalProperties": False,
        }
        if not use.forced:
            answer = {
                "type": "object",
                "properties": {"response": {"type": "string"}},
                "required": ["response"],
                "additionalProperties": False,
            }
            call_form = {"anyOf": [call_form, answer]}
        return ToolGrammar(str(json_schema_to_gbnf(json.dumps(call_form))), None)
    rules = _renamed_root(str(json_schema_to_gbnf(json.dumps(schema))), "tool-call")
    many = use.parallel and fmt != LLAMA3  # Llama 3's template takes one call a turn
    if fmt == HERMES:
        block = 'tool-block ::= "<tool_call>" [\\n]? tool-call [\\n]? "</tool_call>"'
        root = "root ::= tool-block ([\\n]* tool-block)*" if many else "root ::= tool-block"
        trigger = re.escape("<tool_call>")
        rules += f"\n{block}"
    elif fmt == MISTRAL:
        more = ' ("," space tool-call)*' if many else ""
        root = f'root ::= "[TOOL_CALLS]" "[" space tool-call{more} "]"'
        trigger = re.escape("[TOOL_CALLS]")
    else:  # Llama 3.x: the reply is the call, when it starts as one
        root = "root ::= tool-call"
        trigger = r"^\s*(\{)[\s\S]*$"
    return ToolGrammar(f"{rules}\n{root}\n", None if use.forced else trigger)


def _renamed_root(gbnf: str, name: str) -> str:
    return re.sub(r"^root ::=", f"{name} ::=", gbnf, count=1, flags=re.MULTILINE)


# --- the reply ----------------------------------------------------------------------------


def stream_opening(fmt: str) -> str | None:
    """Text before this marker can be streamed as it comes (None: hold the whole reply, whose
    form shows only at its end)."""
    return _OPENINGS.get(fmt)


def parse_reply(fmt: str, text: str) -> tuple[str, tuple[ToolCall, ...]]:
    """The reply's words and the calls in it. A call that does not parse (a reply cut by
    max_tokens) is left in the words, as the model wrote it."""
    if fmt == HERMES:
        calls: list[ToolCall] = []
        words = text
        for match in re.finditer(r"<tool_call>\s*(.*?)\s*</tool_call>", text, flags=re.DOTALL):
            call = _call(match.group(1), fmt)
            if call is not None:
                calls.append(call)
                words = words.replace(match.group(0), "", 1)
        return words.strip() if calls else text, tuple(calls)
    if fmt == MISTRAL:
        at = text.find("[TOOL_CALLS]")
        if at < 0:
            return text, ()
        items = _json(text[at + len("[TOOL_CALLS]") :])
        if not isinstance(items, list):
            return text, ()
        parsed = [_call_from(item, fmt) for item in items]
        if not parsed or any(call is None for call in parsed):
            return text, ()
        return text[:at].strip(), tuple(call for call in parsed if call is not None)
    if fmt == LLAMA3:
        stripped = text.strip()
        call = _call(stripped, fmt) if stripped.startswith("{") else None
        return ("", (call,)) if call is not None else (text, ())
    value = _json(text)
    if isinstance(value, dict) and isinstance(value.get("response"), str):
        return value["response"], ()
    if isinstance(value, dict) and "tool_call" in value:
        call = _call_from(value["tool_call"], fmt)
        return ("", (call,)) if call is not None else (text, ())
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        many = [_call_from(item, fmt) for item in value["tool_calls"]]
        if many and all(call is not None for call in many):
            return "", tuple(call for call in many if call is not None)
    return text, ()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _call(text: str, fmt: str) -> ToolCall | None:
    return _call_from(_json(text), fmt)


def _call_from(value: Any, fmt: str) -> ToolCall | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):  # some models write the arguments as JSON text
        parsed = _json(arguments)
        arguments = parsed if isinstance(parsed, dict) else arguments
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return ToolCall(call_id(fmt), value["name"], text)


def call_id(fmt: str) -> str:
    """A new call's id: Mistral's templates take nine letters and digits, and nothing else."""
    if fmt == MISTRAL:
        alphabet = string.ascii_letters + string.digits
        return "".join(secrets.choice(alphabet) for _ in range(9))
    return f"call_{secrets.token_hex(12)}"
