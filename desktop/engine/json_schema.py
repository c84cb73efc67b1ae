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

# Any JSON object: OpenAI's response_format {"type": "json_object"}, Ollama's format "json".
ANY_OBJECT = '{"type": "object"}'


class UnsupportedSchema(ValueError):
    """A schema the grammar cannot enforce; ``keyword`` is where, as a JSON path."""

    def __init__(self, message: str, keyword: str) -> None:
        super().__init__(message)
        self.keyword = keyword


def check_schema(schema: object, path: str = "schema") -> None:
    """Raises UnsupportedSchema for the first keyword the grammar would not enforce."""
    if isinstance(schema, bool):
        return
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
        if key == "type":
            types = value if isinstance(value, list) else [value]
            if not types or any(t not in _TYPES for t in types):
                raise UnsupportedSchema(f"'{where}': {json.dumps(value)} is not a JSON schema type", where)
        if key in ("properties", "$defs", "definitions"):
            if not isinstance(value, dict):
                raise UnsupportedSchema(f"'{where}' must be an object of schemas", where)
            for name, sub in value.items():
                check_schema(sub, f"{where}.{name}")
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if not isinstance(value, list) or not value:
                raise UnsupportedSchema(f"'{where}' must be a list of schemas", where)
            for index, sub in enumerate(value):
                check_schema(sub, f"{where}[{index}]")
        elif key in ("items", "additionalProperties"):
            check_schema(value, where)
        elif key == "$ref" and not (isinstance(value, str) and value.startswith("#/")):
            raise UnsupportedSchema(f"'{where}': only references inside the schema (#/…) are followed", where)
    string_rules = [k for k in ("pattern", "format") if k in schema]
    if string_rules and ("minLength" in schema or "maxLength" in schema):
        raise UnsupportedSchema(
            f"'{path}': a length together with a {string_rules[0]} cannot both be enforced; "
            "put the length in the pattern",
            f"{path}.{string_rules[0]}",
        )


def grammar_for(schema_json: str) -> str:
    """GBNF for replies that are JSON valid against the schema (checked beforehand)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(schema_json))


def parse_schema(value: Any) -> str:
    """A schema given as an object, checked, as the JSON text the engine takes."""
    check_schema(value)
    return json.dumps(value)
