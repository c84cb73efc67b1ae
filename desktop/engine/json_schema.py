"""JSON schemas for structured output: which of a schema's keywords the grammar can enforce, and
the grammar itself (llama.cpp's JSON-schema-to-GBNF converter, as llama-cpp-python ships it).

The converter skips what it cannot express (``minimum``, ``uniqueItems``, ``not`` …) without a
word, so a reply could break the schema it was promised to keep. ``check_schema`` finds those
keywords first, so that a request is refused naming them rather than answered unchecked.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Keywords the converter turns into grammar rules (for strings, only one of a pattern, a format
# and a length is enforced: the converter takes the first it meets).
_ENFORCED = frozenset(
    {
        "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions",
        "properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
        "maxItems", "pattern", "format", "minLength", "maxLength",
    }
)  # fmt: skip
# Keywords that describe and constrain nothing.
_ANNOTATIONS = frozenset(
    {
        "title", "description", "$schema", "$id", "$comment", "default", "examples", "deprecated",
        "readOnly", "writeOnly",
    }
)  # fmt: skip
_FORMATS = re.compile(r"^(date|time|date-time|uuid[1-5]?)$")
_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})

# The converter writes a count as that many nested rules, and llama.cpp's grammar parser refuses
# more than about 1,400 of them: a larger count (or a regex repetition {m,n} past it) is refused
# here, in words, rather than failing in the engine.
MAX_COUNT = 1000
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems")
_REPEAT = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")
MAX_DEPTH = 64  # schemas inside schemas

# Any JSON object: OpenAI's response_format {"type": "json_object"}, Ollama's format "json".
ANY_OBJECT = '{"type": "object"}'


class UnsupportedSchema(ValueError):
    """A schema the grammar cannot enforce; ``keyword`` is where, as a JSON path."""

    def __init__(self, message: str, keyword: str) -> None:
        super().__init__(message)
        self.keyword = keyword


def check_schema(schema: object, path: str = "schema", depth: int = 0) -> None:
    """Raises UnsupportedSchema for the first keyword the grammar would not enforce."""
    if isinstance(schema, bool):
        return
    if depth > MAX_DEPTH:
        raise UnsupportedSchema(f"'{path}': schemas nest more than {MAX_DEPTH} deep", path)
    if not isinstance(schema, dict):
        raise UnsupportedSchema(f"'{path}' must be a JSON schema (an object)", path)
    for key, value in schema.items():
        where = f"{path}.{key}"
        if key in _ANNOTATIONS:
            continue
        if key not in _ENFORCED:
            raise UnsupportedSchema(
                f"'{where}': the keyword '{key}' cannot be enforced by Hearth's grammar; "
                "leave it out or check it in your program",
                where,
            )
        if key == "format" and not (isinstance(value, str) and _FORMATS.match(value)):
            raise UnsupportedSchema(
                f"'{where}': the format {json.dumps(value)} cannot be enforced (date, time, "
                "date-time and uuid can)",
                where,
            )
        if key in _COUNTS:
            _check_count(value, where)
        if key == "pattern":
            if not isinstance(value, str):
                raise UnsupportedSchema(f"'{where}' must be a regular expression (a string)", where)
            for match in _REPEAT.finditer(value):
                _check_count(max(int(n) for n in match.groups() if n), where)
        if key == "type":
            types = value if isinstance(value, list) else [value]
            if not types or any(t not in _TYPES for t in types):
                raise UnsupportedSchema(f"'{where}': {json.dumps(value)} is not a JSON schema type", where)
        if key in ("properties", "$defs", "definitions"):
            if not isinstance(value, dict):
                raise UnsupportedSchema(f"'{where}' must be an object of schemas", where)
            for name, sub in value.items():
                check_schema(sub, f"{where}.{name}", depth + 1)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if not isinstance(value, list) or not value:
                raise UnsupportedSchema(f"'{where}' must be a list of schemas", where)
            for index, sub in enumerate(value):
                check_schema(sub, f"{where}[{index}]", depth + 1)
        elif key in ("items", "additionalProperties"):
            check_schema(value, where, depth + 1)
        elif key == "$ref" and not (isinstance(value, str) and value.startswith("#/")):
            raise UnsupportedSchema(f"'{where}': only references inside the schema (#/…) are followed", where)
    _check_one_branch(schema, path)


def _check_count(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnsupportedSchema(f"'{where}' must be a whole number, 0 or more", where)
    if value > MAX_COUNT:
        raise UnsupportedSchema(
            f"'{where}': {value:,} is more than a grammar can count ({MAX_COUNT:,} at most); "
            "check a larger limit in your program",
            where,
        )


# The converter reads one branch of each schema, the first of these that applies, and skips the
# keywords of the others: a schema with two (a pattern and a format, an anyOf beside properties)
# would be kept only in part. Containers ($defs) and annotations belong to no branch; ``type``
# is read by every branch that needs it.
_BRANCHES: tuple[tuple[str, frozenset[str]], ...] = (
    ("$ref", frozenset({"$ref"})),
    ("oneOf", frozenset({"oneOf"})),
    ("anyOf", frozenset({"anyOf"})),
    ("const", frozenset({"const"})),
    ("enum", frozenset({"enum"})),
    ("properties", frozenset({"properties", "required", "additionalProperties"})),
    ("additionalProperties", frozenset({"required", "additionalProperties"})),
    ("allOf", frozenset({"allOf"})),
    ("items", frozenset({"items", "minItems", "maxItems"})),
    ("prefixItems", frozenset({"prefixItems", "minItems", "maxItems"})),
    ("pattern", frozenset({"pattern"})),
    ("format", frozenset({"format"})),
    ("minLength", frozenset({"minLength", "maxLength"})),
    ("maxLength", frozenset({"minLength", "maxLength"})),
)
_OUTSIDE_BRANCHES = frozenset({"type", "$defs", "definitions"}) | _ANNOTATIONS


def _check_one_branch(schema: dict[str, Any], path: str) -> None:
    constraining = [key for key in schema if key not in _OUTSIDE_BRANCHES]
    if not constraining:
        return
    if isinstance(schema.get("type"), list) and len(schema["type"]) > 1:
        read: frozenset[str] = frozenset()  # a union of plain types: nothing else is read
    else:
        read = next((keys for first, keys in _BRANCHES if first in schema), frozenset())
    for key in constraining:
        if key not in read:
            chosen = next(iter(sorted(read)), "type")
            raise UnsupportedSchema(
                f"'{path}.{key}': '{key}' beside '{chosen}' in one schema cannot both be enforced; "
                "split them with allOf or drop one",
                f"{path}.{key}",
            )


def grammar_for(schema_json: str) -> str:
    """GBNF for replies that are JSON valid against the schema (checked beforehand)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(schema_json))


def parse_schema(value: Any) -> str:
    """A schema given as an object, checked, as the JSON text the engine takes."""
    check_schema(value)
    return json.dumps(value)
