"""The native check as a filter of pip's candidates: a wheel that would not load is passed over, not fatal.

Under the install-step check alone (``pip_check``), pip picks the best-ranked wheel by its tags and the
check can only stop the install; alpine tags rank above musllinux, so a project publishing an
``alpine_3_19`` wheel that links a system library and a plain ``musllinux_1_2`` wheel failed on every
image without that library, though the musllinux wheel would load. Here the check runs while pip's
resolver builds its candidates, so a refused wheel is dropped with one line and pip tries the next
candidate (another wheel, an older release, or the sdist when building is allowed).

The patch point (pip 23.0, 24.3.1 and 26.3 alike): ``_InstallRequirementBackedCandidate.
_check_metadata_consistency(self, dist)`` in ``pip._internal.resolution.resolvelib.candidates``. Every
wheel candidate passes through it once, right after pip prepared its metadata (from the index's PEP 658/714
``.metadata`` file when served, so the wheel itself is not downloaded yet; from the wheel's own METADATA
for a local file). A ``MetadataInconsistent`` raised there is what pip's factory
(``_make_candidate_from_link``) treats as "this candidate cannot be used": it logs ``Discarding <link>:
<reason>``, remembers the link as a build failure and moves on. The wrapper raises a subclass of it whose
text is the reason. Both wrappers go in when pip imports ``pip._internal.resolution.resolvelib.factory``
(the ``.pth`` finder, ``alpinetags._pip.pth``), which imports the candidates module first.

What is read here is the metadata only: ``Requires-External`` sonames (written by ``alpinetags wheel
tag``) that no loader of the target finds. A wheel without that field passes here, and its ELF members
are checked when pip installs it (``pip_check``): after resolution, so a refusal there still stops pip.

When no candidate of a project is left, pip's own report ("Could not find a version that satisfies ...")
would hide why; the second wrapper, on ``Factory.get_installation_error(self, e, constraints)``, returns
one error naming every wheel passed over, its reason, and the ways out, when every unsatisfiable
requirement is a project some of whose wheels were passed over. Otherwise pip's own report stands.

Fail open as everywhere under pip: an error of alpinetags is one warning and the candidate is kept;
``InputRefused`` (a hostile input or a cap) fails closed: the candidate is passed over, naming why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from alpinetags._pip.patching import replace_pip_function, warn

CANDIDATES_MODULE = "pip._internal.resolution.resolvelib.candidates"
CANDIDATE_CLASS = "_InstallRequirementBackedCandidate"
#: The PyPA spelling of a project name (PEP 503), without importing packaging.
_NORMALIZE = str.maketrans({"_": "-", ".": "-"})


def canonical(name: str) -> str:
    """``Zexp_Demo`` -> ``zexp-demo``: how pip compares project names."""
    return "-".join(filter(None, name.lower().translate(_NORMALIZE).split("-")))


@dataclass(frozen=True)
class PassedOver:
    """One wheel pip's resolver was not given, and why."""

    project: str  # canonical project name
    wheel: str  # the wheel's file name
    reason: str  # "needs libexpat.so.1 (Requires-External)"
    where: str  # "this system", "the system in DIR (ALPINETAGS_ROOT)"
    hints: tuple[str, ...]  # e.g. "apk add so:libexpat.so.1 (...)"

    def line(self) -> str:
        """The reason pip prints as it discards the wheel: ``Discarding <link>: <line>``."""
        if self.reason.startswith("refused"):
            return f"alpinetags: {self.reason}"
        return f"alpinetags: {self.reason}, which {self.where} does not have"


#: Every wheel passed over in this pip process, in the order pip tried them.
passed_over: list[PassedOver] = []
#: The projects of which the filter kept at least one candidate: when pip still finds nothing for one of
#: them, something else ruled those out (a version conflict ...), and pip's own report is the true one.
kept_projects: set[str] = set()


def _where(root: str) -> str:
    return "this system" if root in ("", "/") else f"the system in {root} (ALPINETAGS_ROOT)"


def candidate_verdict(
    filename: str,
    project: str,
    declared: Sequence[str],
    environ: Mapping[str, str],
    explicit_platforms: Sequence[str] = (),
) -> Optional[PassedOver]:
    """Whether pip may keep the candidate wheel ``filename`` (``None``), else why it is passed over.

    ``declared`` are its ``Requires-External`` values as pip read them from its metadata (markers
    included: they are evaluated for the target, as the install step does). Only wheels
    with a platform are judged; sdists are built into wheels, which the install step checks.
    """
    from alpinetags._pip.check import (
        check_enabled,
        is_pure,
        marker_environment,
        requires_external_problem,
        soname_hints,
        target_root,
    )
    from alpinetags._wheel.wheelfile import parse_requires_external

    if not filename.endswith(".whl") or is_pure(filename) or not check_enabled(environ):
        return None
    root = target_root(environ, explicit_platforms)
    if root is None or not declared:
        return None
    text = "".join(f"Requires-External: {v}\n" for v in declared)
    marked = any(";" in v for v in declared)  # the target's environment is detected only when needed
    names = parse_requires_external(text, marker_environment(root) if marked else None)
    if not names:
        return None
    problem = requires_external_problem(names, root)
    if problem is None:
        return None
    reason = f"needs {', '.join(problem.missing_sonames)} (Requires-External)"
    hints = soname_hints(problem.missing_sonames, root)
    return PassedOver(canonical(project), filename, reason, _where(root), hints)


def refused_input(filename: str, project: str, why: str, where: str) -> PassedOver:
    """A candidate passed over because reading it hit a cap or looked hostile (``InputRefused``)."""
    return PassedOver(canonical(project), filename, f"refused: {why}", where, ())


def declared_of(dist: Any) -> tuple[str, ...]:
    """The ``Requires-External`` values of pip's distribution object, as written (markers and version
    ranges included; ``candidate_verdict`` parses them for the target)."""
    return tuple(str(v) for v in (dist.metadata.get_all("Requires-External") or []))


def _discard_error(ireq: Any, text: str) -> Exception:
    """pip's ``MetadataInconsistent`` with ``text`` as its message: what pip's factory discards a
    candidate on (``Discarding <link>: <text>``). The class is made once, from this pip's own."""
    cls = _discard_class.get("cls")
    if cls is None:
        from pip._internal.exceptions import MetadataInconsistent

        class NativeCheckRefused(MetadataInconsistent):
            """A wheel alpinetags' check passed over (its text is the reason)."""

            def __init__(self, ireq: Any, text: str) -> None:
                super().__init__(ireq, "native libraries", "", "")
                self.text = text

            def __str__(self) -> str:
                return self.text

        cls = _discard_class["cls"] = NativeCheckRefused
    return cls(ireq, text)


_discard_class: dict[str, Any] = {}


def _judge(candidate: Any, dist: Any) -> Optional[PassedOver]:
    """The verdict for pip's candidate object; ``None`` (and one warning) if the check itself fails."""
    link = getattr(candidate, "_link", None)
    filename = str(getattr(link, "filename", "") or "")
    if not filename.endswith(".whl"):
        return None
    project = str(getattr(dist, "canonical_name", "") or filename.split("-", 1)[0])
    from alpinetags.errors import InputRefused

    try:
        from alpinetags._pip.hook import explicit_platforms

        return candidate_verdict(filename, project, declared_of(dist), os.environ, explicit_platforms)
    except InputRefused as exc:  # hostile input fails closed: the candidate is passed over
        return refused_input(filename, project, str(exc), _where(os.environ.get("ALPINETAGS_ROOT", "")))
    except Exception as exc:  # a fault of alpinetags fails open: pip keeps the candidate
        warn(f"native check failed for {filename}, pip keeps it as a candidate: {type(exc).__name__}: {exc}")
        return None


def wrap_check_metadata(original: Callable[..., Any]) -> Callable[..., Any]:
    """pip's ``_check_metadata_consistency`` and then the check; a refusal is raised as pip's own
    ``MetadataInconsistent``, which makes pip's factory discard the candidate and try the next."""

    def _check_metadata_consistency(self: Any, dist: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, dist, *args, **kwargs)
        verdict = _judge(self, dist)
        if verdict is None:
            name = getattr(dist, "canonical_name", None)
            if isinstance(name, str):
                kept_projects.add(canonical(name))
            return result
        passed_over.append(verdict)
        raise _discard_error(getattr(self, "_ireq", None), verdict.line())

    _check_metadata_consistency.__doc__ = original.__doc__
    return _check_metadata_consistency


def nothing_left_message(projects: Sequence[str], found: Sequence[PassedOver]) -> str:
    """The one error when every candidate of ``projects`` was passed over: each wheel and why, then the
    ways out (the plugins' hints such as ``apk add so:...``, building from source, the switch)."""
    names = ", ".join(projects)
    where = ", ".join(dict.fromkeys(p.where for p in found))
    lines = [f"alpinetags: no wheel of {names} that pip could use would load on {where}; passed over:"]
    lines.extend(f"  {p.wheel}: {p.reason}" for p in found)
    lines.append("ways out:")
    hints = dict.fromkeys(h for p in found for h in p.hints)
    lines.extend(f"  {hint}" for hint in hints)
    for name in projects:
        lines.append(f"  pip install --no-binary {name} ...   build it from source on this system")
    lines.append("  ALPINETAGS_CHECK=0 pip install ...   install a wheel anyway, unchecked")
    return "\n".join(lines)


def _cause_projects(error: Any) -> list[str]:
    """The canonical project names of the requirements pip could not satisfy."""
    names = []
    for cause in getattr(error, "causes", None) or ():
        requirement = getattr(cause, "requirement", None)
        name = getattr(requirement, "project_name", None)
        if not isinstance(name, str):
            return []  # a Requires-Python cause or something new: pip's own report
        names.append(canonical(name))
    return list(dict.fromkeys(names))


def wrap_installation_error(original: Callable[..., Any]) -> Callable[..., Any]:
    """pip's ``Factory.get_installation_error``, unless every project it would report on had wheels
    passed over by the check and none kept: then one ``InstallationError`` listing them (pip exits 1)."""

    def get_installation_error(self: Any, e: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            projects = _cause_projects(e)
            found = [p for p in passed_over if p.project in projects]
            ours = all(any(p.project == name for p in found) for name in projects)
            if projects and ours and not kept_projects.intersection(projects):
                from pip._internal.exceptions import InstallationError

                return InstallationError(nothing_left_message(projects, found))
        except Exception as exc:
            warn(f"native check could not summarise what it passed over: {type(exc).__name__}: {exc}")
        return original(self, e, *args, **kwargs)

    get_installation_error.__doc__ = original.__doc__
    return get_installation_error


def _params(func: Any, expected: tuple[str, ...]) -> bool:
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    return tuple(code.co_varnames[: min(code.co_argcount, len(expected))]) == expected


def accepts_dist(func: Any) -> bool:
    """Whether ``func`` is ``_check_metadata_consistency(self, dist)`` as the wrapper expects."""
    return _params(func, ("self", "dist"))


def accepts_error(func: Any) -> bool:
    """Whether ``func`` is ``get_installation_error(self, e, constraints)`` as the wrapper expects."""
    return _params(func, ("self", "e"))


def patch_factory_module(module: Any) -> None:
    """Wrap the two methods (see the module doc); ``RuntimeError`` when either is not where expected,
    and then neither is wrapped (the caller warns; the install-step check still runs)."""
    import sys

    candidates = sys.modules.get(CANDIDATES_MODULE)
    candidate_class = getattr(candidates, CANDIDATE_CLASS, None)
    factory_class = getattr(module, "Factory", None)
    if candidate_class is None or not accepts_dist(
        getattr(candidate_class, "_check_metadata_consistency", None)
    ):
        raise RuntimeError(
            f"{CANDIDATES_MODULE}.{CANDIDATE_CLASS}._check_metadata_consistency(self, dist) "
            "not found in this pip"
        )
    if factory_class is None or not accepts_error(getattr(factory_class, "get_installation_error", None)):
        raise RuntimeError(
            f"{module.__name__}.Factory.get_installation_error(self, e, ...) not found in this pip"
        )
    replace_pip_function(
        candidate_class, "_check_metadata_consistency", accepts_dist, wrap_check_metadata,
        "_check_metadata_consistency(self, dist)",
    )  # fmt: skip
    replace_pip_function(
        factory_class, "get_installation_error", accepts_error, wrap_installation_error,
        "get_installation_error(self, e, constraints)",
    )  # fmt: skip
