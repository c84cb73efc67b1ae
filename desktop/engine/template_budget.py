"""Limits on a chat template's render: time, and the size of what it builds.

A template is foreign code: Jinja's sandbox keeps it away from files and the interpreter,
but not from nested loops whose product is astronomical, recursive macros, or
``'a' * 10**9``. Every place where sandboxed code can spend time or memory is counted
here: each loop iteration, call and intercepted operator ticks a clock,
and every operation that can build a large string or sequence (``*``, ``+``, ``%``,
``**``, ``~``, ``str.format`` widths, ``center``/``join``/``replace``/``tojson(indent=)``
and the like, and every buffer Jinja joins, the output included) is measured *before* it
runs. A render over its budget raises ``TemplateBudgetExceeded``, and the caller falls back.
"""

from __future__ import annotations

import re
import string
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2.runtime import Context
from jinja2.utils import Namespace

RENDER_SECONDS = 2.0
# Characters of output, and of any one string or sequence a template builds. The messages
# themselves are added on top (see ``render_limit``): a long conversation renders long.
MAX_SIZE = 4 * 1024 * 1024
# Integers a template computes with (``10**10**10`` would take the CPU for ever).
MAX_INT_BITS = 1 << 16
_CHECK_EVERY = 64  # ticks between looks at the clock
WORK_FACTOR = 16  # what a render may build in all, in limits: a real one builds a few


class TemplateBudgetExceeded(Exception):
    """``str(exc)`` completes "The model's chat template …"."""


class TooLong(TemplateBudgetExceeded):
    def __init__(self) -> None:
        super().__init__(f"took too long (more than {RENDER_SECONDS:g} s)")


class TooLarge(TemplateBudgetExceeded):
    def __init__(self) -> None:
        super().__init__("grew too large (more than a few MB)")


@dataclass
class Budget:
    deadline: float
    limit: int = MAX_SIZE
    # Characters built so far: every result measured here (the output, each ``{{ … }}``,
    # each string joined or grown), so many mid-sized pieces kept in a namespace or a
    # macro's buffer add up to a limit as well.
    built: int = field(default=0)


_current: ContextVar[Budget | None] = ContextVar("hearth_template_budget", default=None)


def render_limit(input_chars: int) -> int:
    return MAX_SIZE + 2 * input_chars


@contextmanager
def budget(input_chars: int = 0, seconds: float = RENDER_SECONDS) -> Iterator[Budget]:
    active = Budget(time.monotonic() + seconds, render_limit(input_chars))
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)


_ticks = 0  # shared by all renders: it only says when to look at the clock


def tick() -> None:
    global _ticks
    _ticks += 1
    if not _ticks % _CHECK_EVERY:
        active = _current.get()
        if active is not None and time.monotonic() > active.deadline:
            raise TooLong()


def limit() -> int:
    active = _current.get()
    return active.limit if active is not None else MAX_SIZE


def check_size(size: int) -> None:
    """Refuses ``size`` characters (or items) over the limit, and counts them as built."""
    active = _current.get()
    if active is None:
        if size > MAX_SIZE:
            raise TooLarge()
        return
    active.built += size
    if size > active.limit or active.built > WORK_FACTOR * active.limit:
        raise TooLarge()


def weight(value: Any, cap: int | None = None) -> int:
    """About how many characters ``str(value)`` has, counting no further than past ``cap``
    (so measuring costs no more than the limit it checks)."""
    cap = limit() if cap is None else cap
    total = 0
    stack = [value]
    steps = 0
    while stack and total <= cap:
        item = stack.pop()
        steps += 1
        if not steps % 1024:
            tick()
        if isinstance(item, str | bytes):
            total += len(item) + 2
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, float):
            total += 24
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, Namespace):
            total += 16
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        else:
            total += 64
    return total


def check_weight(value: Any) -> None:
    check_size(weight(value))


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = (list, tuple, dict, set, frozenset, Namespace)


def operand(value: Any) -> Any:
    """Each side of a comparison: equal lists or dicts are compared item by item, and
    ones that share their parts can stand for more items than memory holds."""
    if type(value) not in _SCALARS and isinstance(value, _CONTAINERS) and weight(value) > limit():
        raise TooLarge()
    return value


def container(value: Any) -> Any:
    """The right side of ``in``: a mapping is a hash lookup (the key, on the left, is measured)."""
    return value if isinstance(value, Mapping) else operand(value)


_SEQUENCES = (str, bytes, list, tuple)


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, _SEQUENCES) else None


def check_result(value: Any) -> Any:
    if isinstance(value, _SEQUENCES):
        check_size(len(value))
    return value


# Operators


def binop_size(operator: str, left: Any, right: Any) -> None:
    """Refuses an operation whose result would be over the budget, before it runs."""
    if operator == "+" and type(left) is str and type(right) is str:  # the usual one
        check_size(len(left) + len(right))
    elif operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _length(seq)
            if size is not None and isinstance(times, int):
                check_size(size * times)
        if _is_int(left) and _is_int(right):
            _check_bits(left.bit_length() + right.bit_length())
    elif operator == "+":
        a, b = _length(left), _length(right)
        if a is not None and b is not None:
            check_size(a + b)
    elif operator == "**":
        if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            _check_bits(right * left.bit_length())
    elif operator == "%" and isinstance(left, str):
        check_printf(left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TooLarge()


_PRINTF_SPEC = re.compile(r"%[^a-zA-Z%]*")
_NUMBER = re.compile(r"\d+")


def _widths(spec: str) -> int:
    widest = 0
    for digits in _NUMBER.findall(spec):
        if len(digits) > 12:
            raise TooLarge()
        widest = max(widest, int(digits))
    return widest


def check_printf(template: str, args: Any) -> None:
    """``template % args``: its fields, each at most as wide as its widest value or width."""
    values: list[Any] = (
        list(args.values())
        if isinstance(args, Mapping)
        else list(args)
        if isinstance(args, tuple)
        else [args]
    )
    widest = max((weight(v) for v in values), default=0)
    for value in values:
        if _is_int(value):  # a ``*`` width or precision
            widest = max(widest, value)
    specs = _PRINTF_SPEC.findall(template)
    for spec in specs:
        widest = max(widest, _widths(spec))
    check_size(len(template) + len(specs) * widest)


class BudgetFormatter(string.Formatter):
    """Measures each field of ``str.format`` as it is formatted, width included."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self._inner = inner
        self._size = 0

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        return self._inner.get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        tick()
        size = max(weight(value), _widths(format_spec))
        self._size += size
        check_size(self._size)
        return super().format_field(value, format_spec)


# Calls of methods on str and bytes that can grow their result far past their inputs.


def check_method_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if not isinstance(method, types.BuiltinMethodType):
        return
    owner = getattr(method, "__self__", None)
    for value in (*args, *kwargs.values()):
        if _is_int(value) and value > limit():
            raise TooLarge()  # a width, a count or a length
    if not isinstance(owner, str | bytes):
        return
    name = method.__name__
    if name == "join" and args:
        items = list(args[0]) if not isinstance(args[0], list | tuple) else args[0]
        check_size(weight(items) + len(owner) * len(items))
    elif name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(new, str | bytes) and isinstance(old, str | bytes) and len(new) > len(old):
            count = len(owner) // max(len(old), 1) + 1
            check_size(len(owner) + count * (len(new) - len(old)))
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if _is_int(size):
            check_size(len(owner) * max(size, 1))
    elif name == "translate" and args and isinstance(args[0], Mapping):
        widest = max((weight(v) for v in args[0].values()), default=1)
        check_size(len(owner) * widest)


# Filters


def _width_filter(inner: Callable[..., Any], *, per_line: bool) -> Callable[..., Any]:
    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        width = args[0] if args else kwargs.get("width", 0)
        lines = str(value).count("\n") + 1 if per_line else 1
        if isinstance(width, str):
            check_size(len(width) * lines + weight(value))
        elif _is_int(width):
            check_size(width * lines + weight(value))
        return inner(value, *args, **kwargs)

    return checked


def budgeted_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Jinja's filters, each measured before it runs where it can grow its input, and
    every one's result measured after."""
    pre: dict[str, Callable[..., Any]] = {
        "center": _width_filter(filters["center"], per_line=False),
        "indent": _width_filter(filters["indent"], per_line=True),
        "wordwrap": _wordwrap(filters["wordwrap"]),
        "format": _format(filters["format"]),
        "join": _join(filters["join"]),
        "replace": _replace(filters["replace"]),
        "string": _measured(filters["string"]),
        "pprint": _measured(filters["pprint"]),
        "urlencode": _measured(filters["urlencode"], factor=3),
    }
    # These compare or hash their items, which is as costly as writing them out.
    for name in ("sort", "unique", "groupby", "dictsort", "min", "max", "sum"):
        pre[name] = _measured(filters[name])
    out: dict[str, Callable[..., Any]] = {}
    for name, func in filters.items():
        out[name] = _after(pre.get(name, func), func)
    return out


def _after(checked: Callable[..., Any], original: Callable[..., Any]) -> Callable[..., Any]:
    skip = 2 if getattr(original, "jinja_pass_arg", None) is not None else 1  # context, value

    def run(*args: Any, **kwargs: Any) -> Any:
        tick()
        for value in (*args[skip:], *kwargs.values()):
            if _is_int(value) and value > MAX_SIZE:
                raise TooLarge()  # a width, a count or a length: batch(10**9, 'x') and the like
        return check_result(checked(*args, **kwargs))

    # Jinja passes the environment or context to filters marked so (pass_environment…).
    run.__dict__.update(getattr(original, "__dict__", {}))
    run.__name__ = getattr(original, "__name__", "filter")
    return run


def _measured(inner: Callable[..., Any], factor: int = 1) -> Callable[..., Any]:
    first = 1 if getattr(inner, "jinja_pass_arg", None) is not None else 0

    def checked(*args: Any, **kwargs: Any) -> Any:
        check_size(weight(args[first:]) * factor)
        return inner(*args, **kwargs)

    return checked


def _format(inner: Callable[..., Any]) -> Callable[..., Any]:
    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        check_printf(str(value) if not isinstance(value, str) else value, kwargs or tuple(args))
        return inner(value, *args, **kwargs)

    return checked


def _join(inner: Callable[..., Any]) -> Callable[..., Any]:
    def checked(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = value if isinstance(value, list | tuple) else list(value)
        check_size(weight(items) + weight(d) * len(items))
        return inner(eval_ctx, items, d, attribute)

    return checked


def _replace(inner: Callable[..., Any]) -> Callable[..., Any]:
    def checked(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        text, old_s, new_s = str(s), str(old), str(new)
        if len(new_s) > len(old_s):
            times = len(text) // max(len(old_s), 1) + 1
            check_size(len(text) + times * (len(new_s) - len(old_s)))
        return inner(eval_ctx, s, old, new, count)

    return checked


def _wordwrap(inner: Callable[..., Any]) -> Callable[..., Any]:
    def checked(environment: Any, s: Any, width: int = 79, *args: Any, **kwargs: Any) -> Any:
        wrap = args[1] if len(args) > 1 else kwargs.get("wrapstring") or "\n"
        breaks = len(str(s)) // max(int(width), 1) + 1
        check_size(len(str(s)) + breaks * len(str(wrap)))
        return inner(environment, s, width, *args, **kwargs)

    return checked


def tojson_size(value: Any, indent: Any, separators: Any) -> None:
    """``json.dumps`` with an indent writes it once per nesting level on every line."""
    extra = 0
    if isinstance(indent, str):
        extra = len(indent)
    elif _is_int(indent):
        extra = indent
    if separators is not None:
        extra += weight(separators)
    body = weight(value)
    check_size(body)
    check_size(body * (1 + extra * _depth(value)))


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    seen = 0
    while stack and seen <= MAX_SIZE:
        item, depth = stack.pop()
        seen += 1
        if isinstance(item, Mapping):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def budgeted_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every ``{% for %}`` loop runs over this: one tick an item, so nested loops with
    empty bodies stop at the deadline too."""
    for item in iterable:
        tick()
        yield item


def budgeted_concat(pieces: Iterable[str]) -> str:
    """Jinja's ``concat``: the output, and every buffer a macro, ``{% set %}`` block or
    ``~`` joins, measured piece by piece before it is joined."""
    total = 0
    parts: list[str] = []
    cap = limit()
    for piece in pieces:
        tick()
        total += len(piece)
        if total > cap:
            raise TooLarge()
        parts.append(piece)
    check_size(total)
    return "".join(parts)


def str_join(items: Iterable[Any]) -> str:
    """``a ~ b``: each part measured before it becomes a string."""
    values = list(items)
    check_weight(values)
    return budgeted_concat(str(v) for v in values)


def context_call(context: Context, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    tick()
    check_method_call(func, args, kwargs)
    return check_result(context.call(func, *args, **kwargs))


def check_weight_of(value: Any) -> Any:
    """The environment's ``finalize``: every ``{{ … }}`` measured before it becomes text,
    and counted, since a macro's or a ``{% set %}`` block's buffer holds them all before
    it is joined."""
    check_size(len(value) if isinstance(value, str) else weight(value))
    return value
