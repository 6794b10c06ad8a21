"""Requirements files read the way pip reads them, with markers that may use alpinetags' variables.

The steps are pip's (``pip/_internal/req/req_file.py``), so a file that pip accepts reads the same here:

1. physical lines; a line ending in ``\\`` continues on the next, unless it is a comment line; the joined
   line keeps the number of its first physical line;
2. comments: ``#`` at the start of a line or after whitespace, to the end of the line
   (``pkg#egg=x`` is no comment); empty lines dropped;
3. ``${NAME}`` (upper case, digits, ``_``) is replaced by that environment variable when it is set;
4. the line is split at the first token starting with ``-``: before it the requirement, after it the
   options (split like a shell, long options may be abbreviated, as optparse allows);
5. the marker is split off the requirement at the first ``;`` (at ``"; "`` for a bare URL).

What differs, on purpose: ``-r`` includes are read here (relative to the including file) and an include
loop is an error naming the chain; pip 23 recursed until it crashed. Remote includes (``-r https://...``)
are not fetched, but kept as lines for pip to read. Local paths are not checked on disk.
Printed lines keep ``${NAME}`` unexpanded: pip expands it again when it reads them, and secrets in index
URLs stay out of logs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from alpinetags.errors import ConfigError
from alpinetags.markers import EnvValue, InvalidMarker, Marker

COMMENT_RE = re.compile(r"(^|\s+)#.*$")
ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_REMOTE_RE = re.compile(r"^(http|https|file):", re.IGNORECASE)
_VCS_SCHEME_RE = re.compile(r"(git|hg|svn|bzr)(\+[a-z0-9-]+)?\Z")
_NAME_AT_RE = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_EXTRAS_RE = re.compile(r"^(.+)(\[[^\]]+\])$")
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz")

#: pip's options in a requirements file: long name -> takes a value.
LONG_OPTIONS = {
    "--index-url": True,
    "--pypi-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--constraint": True,
    "--requirement": True,
    "--editable": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
    "--global-option": True,
    "--hash": True,
    "--config-settings": True,
}
SHORT_OPTIONS = {
    "-i": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
}


class RequirementsError(ConfigError):
    """A requirements file that cannot be read or has a line that cannot be parsed (with its place)."""

    def __init__(self, path: str, lineno: int, message: str) -> None:
        self.path = path
        self.lineno = lineno
        self.detail = message
        where = f"{path}:{lineno}" if lineno else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Option:
    """One option of a line, by its long name; ``value`` is as written (``${NAME}`` unexpanded)."""

    name: str
    value: Optional[str] = None

    def __str__(self) -> str:
        if self.value is None:
            return self.name
        return f"{self.name} {shlex.quote(self.value)}"


@dataclass(frozen=True)
class RequirementLine:
    """One logical line of a requirements file.

    ``kind`` is ``requirement`` (a name, a URL or a path, maybe with a marker), ``editable`` (``-e``),
    ``option`` (``--index-url`` and friends) or ``include`` (a remote ``-r`` left to pip).
    ``requirement`` is the text before the marker; ``name`` is empty for a URL or path without
    ``#egg=``. ``options`` are the line's options (``--hash`` ...), ``-c`` and ``-f`` paths made
    absolute relative to the file as pip does; ``options_text`` is how they are printed (as written,
    unless a path was made absolute).
    """

    path: str
    lineno: int
    text: str
    kind: str
    requirement: str = ""
    name: str = ""
    extras: tuple[str, ...] = ()
    specifier: str = ""
    url: str = ""
    marker: Optional[Marker] = None
    options: tuple[Option, ...] = field(default_factory=tuple)
    options_text: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.lineno}"

    def output(self) -> str:
        """The line for pip, without its marker (pip cannot read alpinetags' variables)."""
        return " ".join(p for p in (self.requirement, self.options_text) if p)


# --------------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------------


def logical_lines(content: str) -> list[tuple[int, str]]:
    """(first line number, text) after continuations and comments, as pip's preprocess gives them."""
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, line in enumerate(content.splitlines(), start=1):
        is_comment = COMMENT_RE.match(line) is not None
        if not line.endswith("\\") or is_comment:
            if is_comment:
                line = " " + line  # so the comment is still removed once joined
            if pending:
                pending.append(line)
                joined.append((first, "".join(pending)))
                pending = []
            else:
                joined.append((number, line))
        else:
            if not pending:
                first = number
            pending.append(line.strip("\\"))
    if pending:
        joined.append((first, "".join(pending)))
    out = []
    for number, line in joined:
        text = COMMENT_RE.sub("", line).strip()
        if text:
            out.append((number, text))
    return out


def expand_env(text: str, environ: Mapping[str, str]) -> str:
    """``${NAME}`` replaced by its value when the variable is set and not empty (pip's rule)."""
    return ENV_VAR_RE.sub(lambda m: environ.get(m.group(1)) or m.group(0), text)


def split_args_options(text: str) -> tuple[str, str]:
    """The requirement part and the options part: options start at the first token beginning with ``-``."""
    tokens = text.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), " ".join(tokens[index:])
    return text, ""


def _long_name(token: str) -> str:
    if token in LONG_OPTIONS:
        return token
    matches = [name for name in LONG_OPTIONS if name.startswith(token)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"ambiguous option: {token} ({', '.join(matches)}?)")
    raise ValueError(f"no such option: {token}")


def parse_options(text: str) -> tuple[Option, ...]:
    """Options as optparse reads pip's: ``-r f``, ``-rf``, ``--requirement f``, ``--req=f``."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"could not split options: {text} ({exc})") from None
    out: list[Option] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        value: Optional[str] = None
        if token.startswith("--"):
            name, eq, inline = token.partition("=")
            name = _long_name(name)
            if eq:
                value = inline
        elif token.startswith("-") and len(token) > 1:
            name = SHORT_OPTIONS.get(token[:2], "")
            if not name:
                raise ValueError(f"no such option: {token[:2]}")
            if len(token) > 2:
                value = token[2:]
        else:
            raise ValueError(f"unexpected argument {token!r} after the options")
        if LONG_OPTIONS[name]:
            if value is None:
                if index >= len(tokens):
                    raise ValueError(f"{name} option requires an argument")
                value = tokens[index]
                index += 1
        elif value is not None:
            raise ValueError(f"{name} option does not take a value")
        out.append(Option(name, value))
    return tuple(out)


def is_url(text: str) -> bool:
    """pip's test: a scheme it can fetch (http, https, file, ftp) or a VCS scheme (``git+https``)."""
    if ":" not in text:
        return False
    scheme = text.split(":", 1)[0].lower()
    return scheme in ("http", "https", "file", "ftp") or _VCS_SCHEME_RE.match(scheme) is not None


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.startswith(".") or text.lower().endswith(_ARCHIVES)


# --------------------------------------------------------------------------------------------------
# Requirement lines
# --------------------------------------------------------------------------------------------------


def parse_requirement(
    args: str,
    options_text: str,
    path: str,
    lineno: int,
    environ: Mapping[str, str],
    text: str = "",
) -> RequirementLine:
    """A requirement line: name or URL or path, extras, specifiers, marker; then its options."""
    try:
        options = parse_options(options_text)
    except ValueError as exc:
        raise RequirementsError(path, lineno, f"invalid options {options_text!r}: {exc}") from None
    separator = "; " if is_url(args) else ";"
    marker: Optional[Marker] = None
    requirement = args
    if separator in args:
        requirement, marker_text = args.split(separator, 1)
        marker_text = marker_text.strip()
        if marker_text:
            try:
                marker = Marker(expand_env(marker_text, environ))
            except InvalidMarker as exc:
                raise RequirementsError(path, lineno, f"invalid marker: {exc}") from None
    requirement = requirement.strip()
    expanded = expand_env(requirement, environ)
    base = RequirementLine(
        path,
        lineno,
        text or args,
        "requirement",
        requirement=requirement,
        marker=marker,
        options=options,
        options_text=options_text,
    )
    if is_url(expanded) or (_looks_like_path(expanded) and not _NAME_AT_RE.match(expanded)):
        location, extras = expanded, ""
        m = _EXTRAS_RE.match(expanded)
        if m and not is_url(expanded):
            location, extras = m.group(1), m.group(2)
        egg = _EGG_RE.search(location)
        return dataclasses.replace(
            base,
            name=egg.group(1) if egg else "",
            extras=tuple(e.strip() for e in extras.strip("[]").split(",") if e.strip()),
            url=location,
        )
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(expanded)
    except InvalidRequirement as exc:
        raise RequirementsError(path, lineno, f"invalid requirement {requirement!r}: {exc}") from None
    if req.marker is not None:  # only reachable through ${NAME} expanding to a ';'
        raise RequirementsError(path, lineno, "a marker may not come from an environment variable")
    return dataclasses.replace(
        base,
        name=req.name,
        extras=tuple(sorted(req.extras)),
        specifier=str(req.specifier),
        url=req.url or "",
    )


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def decode(data: bytes, path: str) -> str:
    """Text of a requirements file: a BOM (UTF-8, -16, -32) decides the encoding, else UTF-8."""
    import codecs

    boms = [
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ]
    encoding = next((enc for bom, enc in boms if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise RequirementsError(path, 0, f"not {encoding} text: {exc}") from None


def _read(path: str, opener: str, lineno: int) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        if opener:
            raise RequirementsError(
                opener, lineno, f"cannot read included file {path}: {exc.strerror}"
            ) from None
        raise RequirementsError(path, 0, f"cannot read: {exc.strerror}") from None
    return decode(data, path)


def _file_url_path(value: str) -> Optional[str]:
    if value.lower().startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(value).path)
    return None


def _relative_to(including: str, value: str) -> str:
    """An included path as pip resolves it: relative to the directory of the including file."""
    local = _file_url_path(value)
    if local is not None:
        return local
    return os.path.join(os.path.dirname(including), value)


def read_requirements(
    path: str,
    environ: Optional[Mapping[str, str]] = None,
    content: Optional[str] = None,
) -> list[RequirementLine]:
    """Every logical line of the requirements file ``path``, local ``-r`` includes read in place.

    ``content`` is the text when it does not come from ``path`` (stdin); ``environ`` gives ``${NAME}``
    (default: this process's environment). Raises ``RequirementsError`` naming the file and line.
    """
    env = dict(os.environ) if environ is None else environ
    return _read_file(path, env, content, chain=(), opener="", opener_line=0)


def _read_file(
    path: str,
    environ: Mapping[str, str],
    content: Optional[str],
    chain: tuple[str, ...],
    opener: str,
    opener_line: int,
) -> list[RequirementLine]:
    real = os.path.realpath(path)
    if real in chain:
        names = " -> ".join([*chain[chain.index(real) :], real])
        raise RequirementsError(opener, opener_line, f"include loop: {names}")
    if content is None:
        content = _read(path, opener, opener_line)
    chain = (*chain, real)
    out: list[RequirementLine] = []
    for lineno, text in logical_lines(content):
        args, options_text = split_args_options(text)
        if args:
            out.append(parse_requirement(args, options_text, path, lineno, environ, text))
            continue
        try:
            options = parse_options(options_text)
        except ValueError as exc:
            raise RequirementsError(path, lineno, f"invalid line {text!r}: {exc}") from None
        includes = [o for o in options if o.name == "--requirement"]
        if includes:
            if len(options) > 1:
                raise RequirementsError(path, lineno, "-r must stand alone on its line")
            value = includes[0].value or ""
            if _REMOTE_RE.match(value) and not value.lower().startswith("file:"):
                out.append(RequirementLine(path, lineno, text, "include", options=options, options_text=text))
                continue
            target = _relative_to(path, expand_env(value, environ))
            out.extend(_read_file(target, environ, None, chain, path, lineno))
            continue
        kind = "editable" if any(o.name == "--editable" for o in options) else "option"
        fixed = tuple(_absolute_option(o, path, environ) for o in options)
        printed = text if fixed == options else " ".join(map(str, fixed))
        out.append(RequirementLine(path, lineno, text, kind, options=fixed, options_text=printed))
    return out


def _absolute_option(option: Option, path: str, environ: Mapping[str, str]) -> Option:
    """``-c`` always, ``-f`` when the path exists there: relative to the requirements file, as pip does."""
    value = option.value or ""
    if option.name == "--constraint" and not _REMOTE_RE.match(value) and not os.path.isabs(value):
        return Option(option.name, os.path.abspath(_relative_to(path, value)))
    if option.name == "--find-links" and "://" not in value and not os.path.isabs(value):
        candidate = os.path.join(os.path.dirname(os.path.abspath(path)), expand_env(value, environ))
        if os.path.exists(candidate):
            return Option(option.name, candidate)
    return option


def marker_holds(line: RequirementLine, environment: Mapping[str, EnvValue]) -> bool:
    """Whether ``line`` applies in ``environment`` (no marker: it does). Errors name the line."""
    if line.marker is None:
        return True
    try:
        return line.marker.evaluate(environment)
    except InvalidMarker as exc:
        raise RequirementsError(line.path, line.lineno, str(exc)) from None


def filter_requirements(
    lines: list[RequirementLine], environment: Mapping[str, EnvValue]
) -> list[RequirementLine]:
    """The lines whose markers hold in ``environment``; option lines always hold."""
    return [line for line in lines if marker_holds(line, environment)]
