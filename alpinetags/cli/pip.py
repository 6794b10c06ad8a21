"""``alpinetags pip ...``: switch the pip hook on or off, show it, or run pip once with it.

alpinetags pip enable [--user]             write alpinetags_pip_hook.py and the .pth importing it
alpinetags pip disable [--user]            remove them
alpinetags pip status [--root DIR] [--json] is the hook on here, and which platforms would pip get first
alpinetags pip [--root DIR] ARGS...        run this environment's pip in-process, hook on, for one command

Of the options every command takes, only those that mean something to pip are listed and accepted:
``--root`` and ``--disable-plugin`` (they reach the hook as the environment variables any pip process
reads), ``--json`` and ``-v``. ``--target``, ``--arch`` and ``--executable`` cannot apply (pip runs this
interpreter): they are not listed, and are refused with exit 2 if given.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from alpinetags.cli.common import EXIT_NO, EXIT_OK, EXIT_PROBE, EXIT_USAGE, emit, opt

#: The variables the hook reads, in the help of `pip` and `pip status`.
PIP_ENVIRONMENT = """\
environment:
  ALPINETAGS_PIP=0                    switch the hook off for one command (tags and check)
  ALPINETAGS_CHECK=0                  switch only the native-library check off for one command
                                      (a wheel that would not load is then neither passed over nor refused)
  ALPINETAGS_ROOT=DIR                 pip gets the platforms of the system in DIR instead of this
                                      one's, wheels are checked against its libraries (see docs/pip.md)
"""

EPILOG = (
    PIP_ENVIRONMENT
    + """
examples:
  alpinetags pip enable               every later pip in this environment sees the alpine tags
  alpinetags pip status               is it on, which platforms pip gets before its own
  alpinetags pip status --root /srv/alpine-3.17 --json
                                      the same for the system unpacked in /srv/alpine-3.17
  alpinetags pip install numpy        one pip command with the hook, nothing enabled
  alpinetags pip --root /srv/alpine-3.17 install --target /srv/alpine-3.17/app numpy
                                      install for that system: its tags, checked against its libraries
  alpinetags pip download --only-binary=:all: --platform alpine_3_19_x86_64 -d wheels numpy
                                      --platform alpine_3_19_x86_64 means alpine_3_19 ... alpine_3_0
  alpinetags pip -- --version         pip's own options before its command go after --
  ALPINETAGS_CHECK=0 pip install numpy
                                      install without the native-library check
  alpinetags pip disable              remove the hook
"""
)

SWITCH_EPILOG = """\
examples:
  alpinetags pip {command}            this environment's site-packages
  alpinetags pip {command} --user     the user site-packages (not read inside a venv)
  alpinetags pip {command} --json     the two paths and whether anything changed, as JSON
"""

STATUS_EPILOG = (
    PIP_ENVIRONMENT
    + """
examples:
  alpinetags pip status               is the hook on, which platforms pip gets before its own
  alpinetags pip status --root /srv/alpine-3.17
                                      the platforms pip would get for the system in that root
  ALPINETAGS_PIP=0 alpinetags pip status --json
                                      says off, and what pip would get with the hook on
"""
)

OWN_COMMANDS = ("enable", "disable", "status")
#: Options of every command that cannot apply to pip: not listed in ``pip --help``, refused if given.
NOT_FOR_PIP = ("executable", "arch", "target")


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "pip",
        cmd_pip,
        "pip with the alpine tags: enable/disable/status the hook, or run pip once with it",
    )
    p.epilog = EPILOG
    p.usage = (
        "alpinetags pip {enable,disable} [--user] | status [--root DIR] [--json] | "
        "[--root DIR] [--] PIP-ARGS..."
    )
    for action in p._actions:
        if action.dest in NOT_FOR_PIP:
            action.help = argparse.SUPPRESS
    p.add_argument(
        "pip_args",
        nargs=argparse.REMAINDER,
        metavar="enable|disable|status|PIP-ARGS",
        help="a hook command, or the arguments of one pip command (install, download, debug ...)",
    )


def _own_parser(command: str) -> argparse.ArgumentParser:
    if command == "status":
        p = argparse.ArgumentParser(
            prog="alpinetags pip status",
            description="Is the pip hook on, and which platforms does pip get before its own. "
            "Exit 0 shown, 3 detection failed (pip would keep its own tags).",
            epilog=STATUS_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--root", metavar="DIR", help="the system in DIR instead of / (as ALPINETAGS_ROOT)")
        p.add_argument(
            "--disable-plugin",
            metavar="NAME",
            action="append",
            help="do not load this plugin (repeatable, or comma-separated)",
        )
        p.add_argument("-v", "--verbose", action="store_true", help="log what is read")
    else:
        p = argparse.ArgumentParser(
            prog=f"alpinetags pip {command}",
            description=f"{'Write' if command == 'enable' else 'Remove'} the pip hook's two files "
            "(alpinetags-pip-hook.pth and the module its line imports, alpinetags_pip_hook.py).",
            epilog=SWITCH_EPILOG.format(command=command),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--user", action="store_true", help="the user site-packages instead of this environment's"
        )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    return p


def _apply_common_options(args: argparse.Namespace) -> None:
    """``--root`` and ``--disable-plugin`` reach the hook as any pip process gets them: the environment."""
    root = opt(args, "root")
    if root:
        if not os.path.isdir(root):
            raise _Usage(f"--root {root!r} is not a directory")
        os.environ["ALPINETAGS_ROOT"] = root
    disabled = opt(args, "disable_plugin")
    if disabled:
        before = os.environ.get("ALPINETAGS_DISABLE_PLUGINS", "")
        os.environ["ALPINETAGS_DISABLE_PLUGINS"] = ",".join(n for n in [before, *disabled] if n)


class _Usage(Exception):
    """A usage error of ``alpinetags pip``: its message is printed, exit 2."""


def cmd_pip(args: argparse.Namespace) -> int:
    try:
        return _cmd_pip(args)
    except _Usage as exc:
        print(f"alpinetags pip: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _cmd_pip(args: argparse.Namespace) -> int:
    pip_args: list[str] = list(opt(args, "pip_args") or [])
    if pip_args[:1] == ["--"]:
        pip_args = pip_args[1:]  # `alpinetags pip -- --version`: pip's options before its command
    if not pip_args:
        raise _Usage("give enable, disable, status, or the arguments of a pip command")
    ignored = [f"--{name}" for name in NOT_FOR_PIP if opt(args, name) is not None]
    if ignored:
        raise _Usage(
            f"{', '.join(ignored)} cannot apply to pip, which runs this interpreter; "
            "use --root DIR, or pip's own --platform (alpine_3_19_x86_64 expands to 3_19 ... 3_0)"
        )
    command = pip_args[0]
    if command not in ("enable", "disable"):
        from alpinetags._pip.check import check_switches

        check_switches(os.environ)  # ALPINETAGS_PIP=maybe is exit 2 naming it, before pip or status runs
    if command not in OWN_COMMANDS:
        _apply_common_options(args)
        return run_pip(pip_args)
    own = _own_parser(command).parse_args(pip_args[1:])
    own.json = own.json or bool(opt(args, "json"))
    if command == "status":
        own.root = own.root or opt(args, "root")
        own.disable_plugin = [*(opt(args, "disable_plugin") or []), *(own.disable_plugin or [])]
        if own.verbose:
            logging.getLogger().setLevel(logging.INFO)
        _apply_common_options(own)
        return _status(own)
    given = [f"--{n.replace('_', '-')}" for n in ("root", "disable_plugin") if opt(args, n)]
    if given:
        raise _Usage(f"{', '.join(given)} does not apply to {command}: the .pth file holds no root or plugin")
    return _switch(command, own)


def _switch(command: str, own: argparse.Namespace) -> int:
    from alpinetags._pip import hookfiles as _files

    if own.user and command == "enable" and sys.prefix != sys.base_prefix:
        raise _Usage(
            "enable --user inside a virtual environment: its python does not read the user site-packages, "
            "every other python of that version does (pip refuses --user here too); "
            "run `alpinetags pip enable` without --user for this environment"
        )
    site_dir = _files.site_dir(own.user)
    files = _files.hook_files(site_dir)
    try:
        if command == "enable":
            _files.enable_in(site_dir)
            done, text = True, f"pip hook on: wrote {files.pth} and {files.module}"
        else:
            removed = _files.disable_in(site_dir)
            done = bool(removed)
            text = (
                f"pip hook off: removed {' and '.join(removed)}"
                if done
                else f"pip hook was not on: no {files.pth}, no {files.module}"
            )
    except OSError as exc:  # a read-only site-packages, another user's: one line, exit 1, nothing left half
        hint = (
            " (run it as the owner of that directory, or outside a venv with --user)"
            if command == "enable"
            else ""
        )
        print(f"alpinetags pip: cannot {command} the hook in {site_dir}: {exc.strerror or exc}{hint}",
              file=sys.stderr)  # fmt: skip
        return EXIT_NO
    if own.user and command == "enable":
        import site

        if not site.ENABLE_USER_SITE:
            text += (
                "\nnote: the user site is not active for this interpreter (a venv?): its pip will not see it"
            )
    data = {"command": command, "user": own.user, "path": files.pth, "module": files.module, "changed": done}
    emit(own, data, lambda: text)
    return EXIT_OK


def _pip_state() -> dict[str, Any]:
    """Which pip this interpreter has, and whether its patch points are where the hook expects them."""
    try:
        import pip
        from pip._internal.operations.install import wheel
        from pip._internal.resolution.resolvelib import candidates, factory
        from pip._internal.utils import compatibility_tags
    except Exception as exc:
        return {
            "version": None,
            "location": None,
            "patch_point": False,
            "install_patch_point": False,
            "candidate_patch_point": False,
            "error": f"{type(exc).__name__}: {exc}",
        }
    from alpinetags._pip.candidates import CANDIDATE_CLASS, accepts_dist, accepts_error
    from alpinetags._pip.check import _accepts_wheel_path
    from alpinetags._pip.hook import _accepts_platforms
    from alpinetags._pip.patching import PATCHED_MARK

    func = getattr(compatibility_tags, "get_supported", None)
    func = getattr(func, PATCHED_MARK, func)
    installer = getattr(wheel, "install_wheel", None)
    installer = getattr(installer, PATCHED_MARK, installer)
    consistency = getattr(getattr(candidates, CANDIDATE_CLASS, None), "_check_metadata_consistency", None)
    report = getattr(getattr(factory, "Factory", None), "get_installation_error", None)
    filters = accepts_dist(getattr(consistency, PATCHED_MARK, consistency)) and accepts_error(
        getattr(report, PATCHED_MARK, report)
    )
    return {
        "version": getattr(pip, "__version__", None),
        "location": os.path.dirname(pip.__file__ or ""),
        "patch_point": _accepts_platforms(func),
        "install_patch_point": _accepts_wheel_path(installer),
        "candidate_patch_point": filters,
        "error": None,
    }


def _status(own: argparse.Namespace) -> int:
    from alpinetags._pip import hookfiles as _files
    from alpinetags._pip.check import CHECK_ENV, check_enabled, target_root
    from alpinetags._pip.hook import OFF_ENV, hook_enabled, host_platforms, root_platforms
    from alpinetags._pip.pth import MODULE_NAME, finder_installed

    files: dict[str, Any] = {}
    modules: dict[str, Any] = {}
    bytecode: dict[str, Any] = {}
    for scope, user in (("site", False), ("user", True)):
        hook = _files.hook_files(_files.site_dir(user))
        files[scope] = hook.pth if os.path.exists(hook.pth) else None
        modules[scope] = hook.module if os.path.exists(hook.module) else None
        bytecode[scope] = _files.bytecode_cached(hook.module) if modules[scope] else None
    loaded = finder_installed()
    switched_off = not hook_enabled(os.environ)
    pip_state = _pip_state()
    fault = None
    replaces = False
    try:
        pointed = root_platforms(os.environ)
        replaces = pointed is not None
        would_add = pointed if pointed is not None else host_platforms(os.environ)
    except Exception as exc:
        would_add, fault = [], f"{type(exc).__name__}: {exc}"
    on = loaded and not switched_off and bool(pip_state["patch_point"])
    check_on = loaded and check_enabled(os.environ) and bool(pip_state["install_patch_point"])
    check_off_by = (
        f"{CHECK_ENV}={os.environ.get(CHECK_ENV)}"
        if not switched_off and not check_enabled(os.environ)
        else None
    )
    check_root = target_root(os.environ)
    data = {
        "on": on,
        "pth_loaded_at_start": loaded,
        "pth_files": files,
        "hook_modules": modules,
        "hook_bytecode_cached": bytecode,
        "switched_off_by": f"{OFF_ENV}={os.environ.get(OFF_ENV)}" if switched_off else None,
        "pip": pip_state,
        "platforms_added": would_add if on else [],
        "platforms_if_on": would_add,
        "replaces_pip_platforms": replaces,
        "native_check": {"on": check_on, "switched_off_by": check_off_by, "root": check_root},
        "fault": fault,
    }

    def text() -> str:
        lines = [f"pip hook: {'on' if on else 'off'}"]
        for scope, path in files.items():
            lines.append(f"  {scope} .pth:  {path or '(none)'}")
            lines.append(f"  {scope} module:  {modules[scope] or '(none)'}")
            fix = "alpinetags pip enable" + (" --user" if scope == "user" else "")
            if bytecode[scope] is False:
                lines.append(
                    "  its bytecode is not cached in __pycache__: a start that cannot write it compiles the "
                    f"module, about 1 ms more; `{fix}` writes it"
                )
            if path and not modules[scope]:
                lines.append(
                    f"  the {scope} .pth has no {MODULE_NAME} beside it: every start of Python "
                    f"prints an error for its line; `{fix}` (or `disable`) mends it"
                )
        lines.append(f"  loaded by this interpreter at start: {'yes' if loaded else 'no'}")
        if switched_off:
            lines.append(f"  switched off by {data['switched_off_by']}")
        if pip_state["version"]:
            point = "found" if pip_state["patch_point"] else "NOT found (pip keeps its tags)"
            lines.append(f"  pip {pip_state['version']} in {pip_state['location']}; tag patch point {point}")
            point = "found" if pip_state["install_patch_point"] else "NOT found (installs are not checked)"
            lines.append(f"  install patch point {point}")
            point = (
                "found" if pip_state["candidate_patch_point"] else "NOT found (candidates are not filtered)"
            )
            lines.append(f"  candidate patch point {point}")
        else:
            lines.append(f"  pip not importable here: {pip_state['error']}")
        if check_on:
            lines.append(f"native check: on, wheels are checked against the libraries of {check_root}")
        elif check_off_by:
            lines.append(f"native check: off, switched off by {check_off_by}")
        else:
            lines.append("native check: off (it runs with the hook)")
        if fault:
            lines.append(f"detection failed, pip would keep its tags: {fault}")
        elif not would_add:
            lines.append("no platform to add here: pip's own tags are unchanged")
        elif replaces and on:
            lines.append(
                "platforms pip gets, in this order, instead of its own (the root's, as pip --platform):"
            )
            lines.extend(f"  {p}" for p in would_add)
        elif replaces:
            lines.append(
                "pip gets its own tags only; with the hook on it would get these instead (the root's):"
            )
            lines.extend(f"  {p}" for p in would_add)
        elif on:
            lines.append("platforms pip gets before its own:")
            lines.extend(f"  {p}" for p in would_add)
        else:
            lines.append("pip gets its own tags only; with the hook on it would get these before them:")
            lines.extend(f"  {p}" for p in would_add)
        return "\n".join(lines)

    emit(own, data, text)
    return EXIT_OK if fault is None else EXIT_PROBE


def run_pip(pip_args: list[str]) -> int:
    """Run ``python -m pip PIP_ARGS`` in this process with the hook installed; pip's exit code."""
    import importlib.util
    import runpy

    from alpinetags._pip.pth import install

    if importlib.util.find_spec("pip") is None:
        print(f"alpinetags pip: no pip in this environment ({sys.executable} -m ensurepip)", file=sys.stderr)
        return EXIT_PROBE
    install()

    saved = sys.argv
    sys.argv = ["pip", *pip_args]
    try:
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return EXIT_OK
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return EXIT_OK
