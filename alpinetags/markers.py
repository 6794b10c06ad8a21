"""PEP 508 environment markers, plus variables for the C library and the distribution.

packaging's marker grammar is closed: ``libc == "musl"`` is a syntax error there. This module has its
own small tokenizer, recursive-descent parser and evaluator that accept any variable name, and decide
at evaluation time whether the name is known. On the standard variables it behaves as
``packaging.markers.Marker`` does (a differential test holds it to that): the same comparisons through
packaging's public ``Specifier`` for the version-valued variables, plain string operators otherwise,
``extra`` normalised as PEP 685 says, the same treatment of a ``python_full_version`` ending in ``+``.

Deliberate differences, all of them rejections of markers packaging accepts by accident:

* a comparison must have one variable and one quoted string. packaging evaluates ``"a" == "b"`` by
  looking up a variable named ``b``, and ``os_name == sys_platform`` by comparing with the *name*
  ``"sys_platform"``; here both are syntax errors.
* an unknown variable is an error naming it and listing the known ones (packaging: a syntax error).

Every comparison is evaluated, also in a branch that cannot change the result, so a marker that
fails in one environment fails in all of them, as packaging's does.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Optional, Union

from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.utils import canonicalize_name

from alpinetags.errors import ConfigError

if TYPE_CHECKING:
    from alpinetags._engine.plugins import Registry
    from alpinetags.model import Platform, Target

__all__ = [
    "ALPINETAGS_VARIABLES",
    "STANDARD_VARIABLES",
    "InvalidMarker",
    "Marker",
    "UndefinedComparison",
    "UndefinedEnvironmentName",
    "UnknownVariable",
    "default_environment",
    "is_version_variable",
]

EnvValue = Union[str, AbstractSet[str]]
EvaluateContext = Literal["metadata", "lock_file", "requirement"]

#: The PEP 508 variables (and the set-valued ones of PEP 751 lock files), as packaging knows them.
STANDARD_VARIABLES = (
    "implementation_name",
    "implementation_version",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "python_version",
    "sys_platform",
    "extra",
    "extras",
    "dependency_groups",
)
#: The variables alpinetags adds for the detected (or stated) system.
ALPINETAGS_VARIABLES = ("libc", "libc_version", "distro_id", "distro_version", "distro_like")

#: Older spellings PEP 508 still accepts, and the one alias packaging keeps.
ALIASES = {
    "os.name": "os_name",
    "sys.platform": "sys_platform",
    "platform.version": "platform_version",
    "platform.machine": "platform_machine",
    "platform.python_implementation": "platform_python_implementation",
    "python_implementation": "platform_python_implementation",
}
_STANDARD_VERSION_VARIABLES = frozenset(
    {"implementation_version", "platform_release", "python_full_version", "python_version"}
)
_SET_VARIABLES = frozenset({"extras", "dependency_groups"})
_KEYWORDS = frozenset({"and", "or", "in", "not"})


def is_version_variable(name: str) -> bool:
    """True when ``name`` is compared as a PEP 440 version (where its value and the operand allow).

    The standard ones are packaging's four; every other variable whose name ends in ``_version``
    (``libc_version``, ``distro_version``, a plugin's ``alpine_version``) is one too. ``platform_version``
    (a kernel build string) is not, as in packaging.
    """
    if name in STANDARD_VARIABLES:
        return name in _STANDARD_VERSION_VARIABLES
    return name.endswith("_version")


class InvalidMarker(ConfigError):
    """A marker that cannot be parsed or evaluated; ``str()`` shows the marker and a caret under the fault."""

    def __init__(self, message: str, source: str = "", span: tuple[int, int] = (0, 0)) -> None:
        self.message = message
        self.source = source
        self.span = span
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.source:
            return self.message
        start, end = self.span
        caret = " " * start + "~" * max(0, end - start - 1) + "^"
        return f"{self.message}\n    {self.source}\n    {caret}"


class UnknownVariable(InvalidMarker):
    """A marker uses a variable that is neither standard, nor alpinetags', nor a loaded plugin's."""


class UndefinedEnvironmentName(InvalidMarker):
    """A known variable without a value: ``extra`` outside metadata, ``libc`` left out of an environment."""


class UndefinedComparison(InvalidMarker):
    """An operator that is not defined on these values (``~=`` on strings, a set on the left)."""


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "op", "string", "word", "end"
    text: str
    start: int
    space_before: bool


_TOKEN_RE = re.compile(
    r"""
    (?P<space>[ \t]+)
    | (?P<paren>[()])
    | (?P<op>===|==|~=|!=|<=|>=|<|>)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    space = False
    while pos < len(source):
        m = _TOKEN_RE.match(source, pos)
        if m is None:
            raise InvalidMarker(f"Unexpected character {source[pos]!r}", source, (pos, pos + 1))
        kind = m.lastgroup or ""
        if kind == "space":
            space = True
        else:
            text = m.group()
            if kind == "paren":
                kind = text
            tokens.append(_Token(kind, text, pos, space))
            space = False
        pos = m.end()
    tokens.append(_Token("end", "", len(source), space))
    return tokens


# --------------------------------------------------------------------------------------------------
# Tree
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compare:
    """``variable op "value"`` or ``"value" op variable`` (``variable_left`` says which)."""

    variable: str
    op: str
    value: str
    variable_left: bool
    span: tuple[int, int]
    variable_span: tuple[int, int]

    def __str__(self) -> str:
        value = _quote(self.value)
        if self.variable_left:
            return f"{self.variable} {self.op} {value}"
        return f"{value} {self.op} {self.variable}"


def _quote(value: str) -> str:
    """``value`` as a quoted string that reads back as itself."""
    if _PLAIN_RE.match(value):
        return f'"{value}"'
    escaped = "".join(
        f"\\x{ord(c):02x}" if c in '"\\' or (not c.isprintable() and ord(c) < 256) else c for c in value
    )
    return f'"{escaped}"'


_PLAIN_RE = re.compile(r'[^"\\\x00-\x1f\x7f-\x9f]*\Z')


@dataclass(frozen=True)
class _Group:
    """Items joined by ``and``/``or`` (``and`` binds tighter); ``items`` alternates item, word, item."""

    items: tuple[Union[_Compare, _Group, str], ...]

    def __str__(self) -> str:
        parts = []
        for item in self.items:
            parts.append(f"({item})" if isinstance(item, _Group) else str(item))
        return " ".join(parts)


class _Parser:
    """marker = atom (("and" | "or") atom)*; atom = "(" marker ")" | item; item = var op var."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, message: str, token: _Token) -> InvalidMarker:
        end = token.start + max(1, len(token.text))
        return InvalidMarker(message, self.source, (token.start, end))

    def parse(self) -> _Group:
        group = self.marker()
        token = self.peek()
        if token.kind != "end":
            raise self.fail("Expected 'and', 'or' or the end of the marker", token)
        return group

    def marker(self) -> _Group:
        items: list[Union[_Compare, _Group, str]] = [self.atom()]
        while self.peek().kind == "word" and self.peek().text in ("and", "or"):
            items.append(self.take().text)
            items.append(self.atom())
        return _Group(tuple(items))

    def atom(self) -> Union[_Compare, _Group]:
        token = self.peek()
        if token.kind == "(":
            self.take()
            inner = self.marker()
            close = self.peek()
            if close.kind != ")":
                raise self.fail("Expected ')' to close the '(' here", token)
            self.take()
            return inner
        return self.item()

    def operand(self) -> tuple[str, str, _Token]:
        """("variable", name) or ("string", value) for the next token."""
        token = self.take()
        if token.kind == "string":
            return "string", _python_str(token, self.source), token
        if token.kind == "word" and token.text not in _KEYWORDS:
            return "variable", ALIASES.get(token.text, token.text), token
        raise self.fail("Expected a marker variable or quoted string", token)

    def op(self) -> str:
        token = self.take()
        if token.kind == "op":
            return token.text
        if token.kind == "word" and token.text == "in":
            return "in"
        if token.kind == "word" and token.text == "not":
            after = self.take()
            if after.kind == "word" and after.text == "in" and after.space_before:
                return "not in"
            raise self.fail("Expected ' in' after 'not'", after)
        raise self.fail("Expected a marker operator: <=, <, !=, ==, >=, >, ~=, ===, in, not in", token)

    def item(self) -> _Compare:
        left_kind, left, left_token = self.operand()
        op = self.op()
        right_kind, right, right_token = self.operand()
        span = (left_token.start, right_token.start + len(right_token.text))
        if left_kind == right_kind:
            if left_kind == "variable":
                what = f'two variables (quote the value: "{right_token.text}")'
            else:
                what = "two quoted strings"
            where = (right_token.start, right_token.start + len(right_token.text))
            raise InvalidMarker(
                f"A comparison needs one variable and one quoted string, not {what}", self.source, where
            )
        if left_kind == "variable":
            where = (left_token.start, left_token.start + len(left_token.text))
            return _Compare(left, op, _normalise_literal(left, right), True, span, where)
        where = (right_token.start, right_token.start + len(right_token.text))
        return _Compare(right, op, _normalise_literal(right, left), False, span, where)


def _python_str(token: _Token, source: str) -> str:
    """The value of a quoted string, read as the Python string literal PEP 508 says it is."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(token.text)
    except (SyntaxError, ValueError):
        raise InvalidMarker(
            "Invalid quoted string", source, (token.start, token.start + len(token.text))
        ) from None
    return str(value)


def _normalise_literal(variable: str, value: str) -> str:
    """Extra names compare normalised (PEP 685), so the literal is normalised once, when parsed."""
    if variable == "extra" or variable in _SET_VARIABLES:
        return canonicalize_name(value)
    return value


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------

_STRING_OPS: dict[str, Callable[[str, EnvValue], bool]] = {
    "in": lambda lhs, rhs: lhs in rhs,
    "not in": lambda lhs, rhs: lhs not in rhs,
    # Ordering is not defined on arbitrary strings: packaging makes < and > false, <= and >= equality.
    "<": lambda lhs, rhs: False,
    "<=": lambda lhs, rhs: lhs == rhs,
    "==": lambda lhs, rhs: lhs == rhs,
    "!=": lambda lhs, rhs: lhs != rhs,
    ">=": lambda lhs, rhs: lhs == rhs,
    ">": lambda lhs, rhs: False,
}


def _compare(lhs: EnvValue, op: str, rhs: EnvValue, variable: str) -> bool:
    if not isinstance(lhs, str):
        raise UndefinedComparison(
            f"{variable} is a set: use it only as '\"name\" in {variable}', not on the left of {op!r}"
        )
    if variable in _SET_VARIABLES:
        if isinstance(rhs, str):
            # packaging 26.4 made this an error (26.3 compared the two strings): a set variable whose
            # environment value is a string is a caller's mistake, and answering it would hide that.
            raise UndefinedComparison(f"{variable} must be a set of names, not the string {rhs!r}")
        lhs, rhs = canonicalize_name(lhs), {canonicalize_name(v) for v in rhs}
    if is_version_variable(variable) and isinstance(rhs, str):
        try:
            spec = Specifier(f"{op}{rhs}")
        except InvalidSpecifier:
            pass
        else:
            return spec.contains(lhs, prereleases=True)
    oper = _STRING_OPS.get(op)
    if oper is None:
        raise UndefinedComparison(f"{op!r} is not defined on {lhs!r} and {rhs!r} ({variable})")
    return oper(lhs, rhs)


def _compare_extra_set(extras: AbstractSet[str], op: str, literal: str) -> bool:
    """``extra`` given as the set of selected extras (packaging 26.4): ``==`` is membership, ``!=`` its
    negation, anything else undefined. ``evaluate`` has already normalised the names (and made an empty
    set ``""``, as packaging does); the literal was normalised when parsed."""
    if op == "==":
        return literal in extras
    if op == "!=":
        return literal not in extras
    raise UndefinedComparison(f"only == and != are defined on the set of selected extras, not {op!r}")


def _known_list(environment: Mapping[str, EnvValue]) -> str:
    names = dict.fromkeys([*STANDARD_VARIABLES, *ALPINETAGS_VARIABLES, *sorted(environment)])
    return ", ".join(names)


class _Evaluator:
    def __init__(self, source: str, environment: Mapping[str, EnvValue]) -> None:
        self.source = source
        self.environment = environment

    def lookup(self, item: _Compare) -> EnvValue:
        try:
            return self.environment[item.variable]
        except KeyError:
            pass
        if item.variable in STANDARD_VARIABLES or item.variable in ALPINETAGS_VARIABLES:
            raise UndefinedEnvironmentName(
                f"Marker variable {item.variable!r} has no value in this context or environment",
                self.source,
                item.variable_span,
            )
        raise UnknownVariable(
            f"Unknown marker variable {item.variable!r}; known: {_known_list(self.environment)}",
            self.source,
            item.variable_span,
        )

    def compare(self, item: _Compare) -> bool:
        current = self.lookup(item)
        try:
            if item.variable == "extra" and not isinstance(current, str):
                return _compare_extra_set(current, item.op, item.value)
            if item.variable_left:
                return _compare(current, item.op, item.value, item.variable)
            return _compare(item.value, item.op, current, item.variable)
        except UndefinedComparison as exc:
            raise UndefinedComparison(exc.message, self.source, item.span) from None

    def group(self, group: _Group) -> bool:
        # Every item is evaluated (no short circuit), so an error anywhere is an error always.
        alternatives: list[list[bool]] = [[]]
        for item in group.items:
            if item == "or":
                alternatives.append([])
            elif isinstance(item, _Group):
                alternatives[-1].append(self.group(item))
            elif isinstance(item, _Compare):
                alternatives[-1].append(self.compare(item))
        return any(all(values) for values in alternatives)


def _variables(group: _Group) -> set[str]:
    out: set[str] = set()
    for item in group.items:
        if isinstance(item, _Group):
            out |= _variables(item)
        elif isinstance(item, _Compare):
            out.add(item.variable)
    return out


class Marker:
    """A parsed marker expression; standard variables as in PEP 508, plus alpinetags' and plugins'.

    >>> Marker('libc == "musl" and distro_version >= "3.18"').evaluate(
    ...     {"libc": "musl", "distro_version": "3.19.1"})
    True
    """

    __slots__ = ("_source", "_tree")

    def __init__(self, marker: str) -> None:
        self._source = marker
        self._tree = _Parser(marker).parse()

    def __str__(self) -> str:
        return str(self._tree)

    def __repr__(self) -> str:
        return f"<Marker({str(self)!r})>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Marker):
            return NotImplemented
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    @property
    def variables(self) -> frozenset[str]:
        """The variable names the marker uses (aliases resolved: ``os.name`` is ``os_name``)."""
        return frozenset(_variables(self._tree))

    def evaluate(
        self,
        environment: Optional[Mapping[str, EnvValue]] = None,
        context: EvaluateContext = "metadata",
    ) -> bool:
        """Whether the marker holds in ``environment``.

        With no ``environment``: the detected system's (``default_environment()``, plugins loaded).
        A given one is laid over this interpreter's standard values, as packaging does, and nothing is
        probed: a marker using ``libc`` must be given ``libc`` (start from ``default_environment()``).
        ``context`` is packaging's: ``"metadata"`` defines ``extra`` (empty by default),
        ``"lock_file"`` the sets ``extras`` and ``dependency_groups``, ``"requirement"`` neither.

        Raises ``UnknownVariable``, ``UndefinedEnvironmentName`` or ``UndefinedComparison``.
        """
        current: dict[str, EnvValue] = {}
        current.update(default_environment() if environment is None else _standard_environment())
        if context == "lock_file":
            current.update(extras=frozenset(), dependency_groups=frozenset())
        elif context == "metadata":
            current["extra"] = ""
        if environment is not None:
            current.update(environment)
            if "extra" in current:
                extra = current["extra"]
                if isinstance(extra, str) and extra:
                    current["extra"] = canonicalize_name(extra)
                elif isinstance(extra, (set, frozenset)) and extra:
                    current["extra"] = frozenset(canonicalize_name(name) for name in extra)
                else:
                    current["extra"] = ""
        full_version = current.get("python_full_version")
        if isinstance(full_version, str) and full_version.endswith("+"):
            # A Python built from an untagged checkout says "3.13.0+", which is no PEP 440 version.
            current["python_full_version"] = full_version + "local"
        return _Evaluator(self._source, current).group(self._tree)


# --------------------------------------------------------------------------------------------------
# Environments
# --------------------------------------------------------------------------------------------------


def _standard_environment() -> dict[str, str]:
    import packaging.markers

    return {name: str(value) for name, value in packaging.markers.default_environment().items()}


def platform_variables(platform: Platform) -> dict[str, str]:
    """alpinetags' own variables for ``platform`` (see ``docs/markers.md``)."""
    return {
        "libc": platform.libc,
        "libc_version": platform.libc_version,
        "distro_id": platform.distro_id,
        "distro_version": platform.distro_version,
        "distro_like": " ".join(platform.distro_like),
    }


def default_environment(
    platform: Optional[Platform] = None,
    *,
    target: Optional[Target] = None,
    registry: Optional[Registry] = None,
) -> dict[str, str]:
    """The marker environment of ``platform`` (default: the one detected for ``target``).

    The standard PEP 508 values are this interpreter's (``packaging.markers.default_environment()``).
    For a target that is not the running system (another root, ``--target``) and for a forced
    ``--arch``, ``platform_machine`` is the target's arch, and ``os_name``, ``sys_platform`` and
    ``platform_system`` are Linux's; the Python values stay this interpreter's. Then come
    ``libc``, ``libc_version``, ``distro_id``, ``distro_version``, ``distro_like`` and the plugins'
    variables. A plugin may not redefine a variable already set: that is reported as a fault and
    skipped, as is a name two plugins give (the first one wins).
    """
    from alpinetags._engine.detect import probe
    from alpinetags._engine.markers_vars import plugin_marker_variables

    target, registry, platform = probe(target, registry, platform)
    env = _standard_environment()
    if not target.is_running_system or target.arch:
        env.update(os_name="posix", sys_platform="linux", platform_system="Linux")
        env["platform_machine"] = platform.arch
    env.update(platform_variables(platform))
    reserved = set(STANDARD_VARIABLES) | set(env)
    for plugin, variables in plugin_marker_variables(platform, registry):
        for name, value in variables.items():
            if name in reserved:
                registry.fault(f"plugin {plugin!r} redefines marker variable {name!r}; ignored")
                continue
            reserved.add(name)
            env[name] = value
    return env
