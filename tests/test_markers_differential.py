"""alpinetags' marker evaluator against packaging's own, on generated markers and environments.

The oracle is ``packaging.markers.Marker`` as installed. For every generated marker and environment
both must give the same answer, or both must reject it (at parse or at evaluation). The one allowed
difference is the documented one: a comparison of two variables or of two quoted strings, which
packaging evaluates by accident and alpinetags rejects; it is recognised by its error message.
"""

from __future__ import annotations

from typing import Any, Optional

import packaging
import packaging.markers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpinetags.markers import InvalidMarker, Marker

# The oracle must be packaging 26.3 or newer (test_oracle_is_recent_enough). 26.3 changed two rejections
# followed here (a trailing newline, a set on the left of an operator) and fixed `"Foo_Bar" != extra`
# (26.2 does not normalise a quoted string on the left of `extra`; hypothesis found it).
EXAMPLES = 10_000

STANDARD_NAMES = [
    "implementation_name",
    "implementation_version",
    "os_name",
    "os.name",
    "platform_machine",
    "platform.machine",
    "platform_python_implementation",
    "platform.python_implementation",
    "python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform.version",
    "python_full_version",
    "python_version",
    "sys_platform",
    "sys.platform",
    "extra",
    "extras",
    "dependency_groups",
]
ENV_KEYS = [
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
]
VALUES = [
    "",
    "3",
    "3.8",
    "3.11",
    "3.11.4",
    "3.12.0+",
    "3.13.0a1",
    "3.13.0rc2",
    "2.7.18",
    "1!2.0",
    "1.0.post1",
    "1.0.dev0",
    "v3.1",
    "3.*",
    "3.11.*",
    "=3.11",
    " 3.9 ",
    "3.9,<4",
    "6.1.0-18-amd64",
    "5.15.0-1051-azure",
    "6.6.8-0-lts",
    "3.21.0_alpha20240606",
    "posix",
    "nt",
    "linux",
    "Linux",
    "win32",
    "darwin",
    "x86_64",
    "aarch64",
    "i686",
    "CPython",
    "cpython",
    "PyPy",
    "pypy",
    "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
    "foo",
    "Foo_Bar",
    "foo.bar",
    "foo-bar",
    "test",
    "py",
    "x",
    "\\x41",
    "\\d",
    "a'b",
    'a"b',
    "extra",
    "os_name",
]
OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"] * 3 + ["~=", "===", "not  in", "not\tin"]
value_text = st.one_of(
    st.sampled_from(VALUES),
    st.text(alphabet="0123456789.abcrpostdev!+*-_ ", max_size=8),
)


def quoted(value: str) -> Optional[str]:
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return None


def pick(number: int, *choices: list[Any]) -> list[Any]:
    """Decode one drawn integer into one item of each list (one draw instead of many: faster)."""
    out = []
    for items in choices:
        number, index = divmod(number, len(items))
        out.append(items[index])
    return out


SPACE_CHOICES = ["", " ", " ", "  ", "\t"]


@st.composite
def comparison(draw: Any) -> str:
    value = quoted(draw(value_text)) or '""'
    bound = len(STANDARD_NAMES) * len(OPS) * len(SPACE_CHOICES) ** 4 * 4
    name, op, s0, s1, s2, s3, order = pick(
        draw(st.integers(0, bound - 1)), STANDARD_NAMES, OPS, *[SPACE_CHOICES] * 4, [0, 1, 2, 3]
    )
    if op[0].isalpha() or order >= 2:
        # word operators need a space next to a variable name; quoted strings end a word themselves
        s1, s2 = s1 or " ", s2 or " "
    left, right = (name, value) if order % 2 else (value, name)
    return f"{s0}{left}{s1}{op}{s2}{right}{s3}"


def combine(children: Any) -> Any:
    return st.one_of(
        st.tuples(children, st.sampled_from([" and ", " or ", "\tand  ", " or\t"]), children).map(
            lambda t: f"{t[0]}{t[1]}{t[2]}"
        ),
        children.map(lambda m: f"({m})"),
        children.map(lambda m: f"( {m} )"),
    )


markers = st.recursive(comparison(), combine, max_leaves=6)
MUTATION_ALPHABET = "()\"' =<>!~andornti_.\\x3"


@st.composite
def mutated(draw: Any) -> str:
    text: str = draw(markers)
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        if draw(st.booleans()) and pos < len(text):
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + draw(st.sampled_from(MUTATION_ALPHABET)) + text[pos:]
    return text


# ``extra`` as a set of selected extras is packaging 26.4's (membership for == and !=).
EXTRA_CHOICES = [
    None,
    "",
    "test",
    "Foo_Bar",
    "foo.bar",
    "doc",
    "absent",
    "absent",
    frozenset(),
    frozenset({"Doc", "test"}),
]
GROUP_CHOICES = [frozenset(), frozenset({"test"}), frozenset({"Foo_Bar", "doc"}), "doc", None, None, None]


@st.composite
def environments(draw: Any) -> dict[str, Any]:
    picked = pick(draw(st.integers(0, len(VALUES) ** len(ENV_KEYS) - 1)), *[VALUES] * len(ENV_KEYS))
    env: dict[str, Any] = dict(zip(ENV_KEYS, picked, strict=True))
    extra, extras, groups = pick(draw(st.integers(0, 1000)), EXTRA_CHOICES, GROUP_CHOICES, GROUP_CHOICES)
    if extra != "absent":
        env["extra"] = extra
    if extras is not None:
        env["extras"] = extras
    if groups is not None:
        env["dependency_groups"] = groups
    return env


def packaging_outcome(text: str, env: dict[str, Any], context: Any) -> tuple[str, Optional[bool]]:
    try:
        return "ok", packaging.markers.Marker(text).evaluate(env, context)
    except Exception:  # any rejection: InvalidMarker, UndefinedComparison, KeyError, SyntaxError ...
        return "rejected", None


def our_outcome(text: str, env: dict[str, Any], context: Any) -> tuple[str, Optional[bool], str]:
    try:
        return "ok", Marker(text).evaluate(env, context), ""
    except InvalidMarker as exc:  # anything else is a crash and fails the test
        return "rejected", None, exc.message


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # packaging's literal_eval of "\\d"
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=st.one_of(markers, markers, mutated()),
    env=environments(),
    context=st.sampled_from(["metadata", "metadata", "lock_file", "requirement"]),
)
def test_same_answer_as_packaging(text: str, env: dict[str, Any], context: Any) -> None:
    theirs = packaging_outcome(text, env, context)
    ours, result, message = our_outcome(text, env, context)
    if theirs[0] == "ok" and ours == "rejected" and message.startswith("A comparison needs one variable"):
        return  # the documented difference: packaging compares with a variable's *name*
    assert (ours, result) == theirs, f"marker {text!r} env {env!r} context {context}: {message}"


@pytest.mark.parametrize(
    "text",
    ['"posix" == "os_name"', "os_name == sys_platform", '"a" == "b"'],
)
def test_two_variables_or_two_strings_are_rejected(text: str) -> None:
    with pytest.raises(InvalidMarker, match="one variable and one quoted string"):
        Marker(text)


def test_oracle_is_recent_enough() -> None:
    # packaging 26.0 gave markers the rules followed here (string < and > false, versions compared only
    # for version-valued variables); an older packaging as the oracle would disagree by design.
    from packaging.version import Version

    assert Version(packaging.__version__) >= Version("26.3"), (
        f"packaging {packaging.__version__} is too old an oracle: pip install 'packaging>=26.3'"
    )
