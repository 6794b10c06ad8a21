"""``alpinetags pip ...``: switch the pip hook on or off, show it, or run pip once with it.

alpinetags pip enable [--user]    write alpinetags-pip-hook.pth into site-packages
alpinetags pip disable [--user]   remove it
alpinetags pip status [--json]    is the hook on here, and which platforms would pip get first
alpinetags pip ARGS...            run this environment's pip in-process, hook on, for one command
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from .cli import EXIT_OK, EXIT_PROBE, EXIT_USAGE, emit, opt

EPILOG = """\
examples:
  alpinetags pip enable               every later pip in this environment sees the alpine tags
  alpinetags pip status               is it on, which platforms pip gets before its own
  alpinetags pip install numpy        one pip command with the hook, nothing enabled
  alpinetags pip download --only-binary=:all: --platform alpine_3_19_x86_64 -d wheels numpy
                                      --platform alpine_3_19_x86_64 means alpine_3_19 ... alpine_3_0
  ALPINETAGS_PIP=0 pip install numpy  one pip command without the hook
  alpinetags pip disable              remove the hook

environment:
  ALPINETAGS_PIP=0                    switch the hook off for one command
  ALPINETAGS_ROOT=DIR                 pip gets the tags of the system in DIR (see docs/pip.md)
"""

OWN_COMMANDS = ("enable", "disable", "status")


def register(subparsers: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "pip",
        cmd_pip,
        "pip with the alpine tags: enable/disable/status the hook, or run pip once with it",
    )
    p.epilog = EPILOG
    p.usage = "alpinetags pip {enable,disable} [--user] | status [--json] | [--] PIP-ARGS..."
    p.add_argument(
        "pip_args",
        nargs=argparse.REMAINDER,
        metavar="enable|disable|status|PIP-ARGS",
        help="a hook command, or the arguments of one pip command (install, download, debug ...)",
    )


def _own_parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"alpinetags pip {command}")
    if command in ("enable", "disable"):
        p.add_argument(
            "--user", action="store_true", help="the user site-packages instead of this environment's"
        )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    return p


def _apply_common_options(args: argparse.Namespace) -> None:
    """``--root`` and ``--disable-plugin`` reach the hook as any pip process gets them: the environment."""
    root = opt(args, "root")
    if root:
        os.environ["ALPINETAGS_ROOT"] = root
    disabled = opt(args, "disable_plugin")
    if disabled:
        before = os.environ.get("ALPINETAGS_DISABLE_PLUGINS", "")
        os.environ["ALPINETAGS_DISABLE_PLUGINS"] = ",".join(n for n in [before, *disabled] if n)


def cmd_pip(args: argparse.Namespace) -> int:
    pip_args: list[str] = list(opt(args, "pip_args") or [])
    if pip_args[:1] == ["--"]:
        pip_args = pip_args[1:]  # `alpinetags pip -- --version`: pip's options before its command
    if not pip_args:
        print(
            "alpinetags pip: give enable, disable, status, or the arguments of a pip command", file=sys.stderr
        )
        return EXIT_USAGE
    ignored = [f"--{name}" for name in ("executable", "arch", "target") if opt(args, name) is not None]
    if ignored:
        print(
            f"alpinetags pip: {', '.join(ignored)} cannot apply to pip, which runs this interpreter; "
            "use --root DIR, or pip's own --platform (alpine_3_19_x86_64 expands to 3_19 ... 3_0)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    _apply_common_options(args)
    command = pip_args[0]
    if command not in OWN_COMMANDS:
        return run_pip(pip_args)
    own = _own_parser(command).parse_args(pip_args[1:])
    own.json = own.json or bool(opt(args, "json"))
    if command == "status":
        return _status(own)
    return _switch(command, own)


def _switch(command: str, own: argparse.Namespace) -> int:
    from . import _pth

    if command == "enable":
        path = _pth.enable(own.user)
        done = True
        text = f"pip hook on: wrote {path}"
    else:
        removed = _pth.disable(own.user)
        done = removed is not None
        path = removed or _pth.pth_path(own.user)
        text = f"pip hook off: removed {path}" if done else f"pip hook was not on: no {path}"
    if own.user and command == "enable":
        import site

        if not site.ENABLE_USER_SITE:
            text += (
                "\nnote: the user site is not active for this interpreter (a venv?): its pip will not see it"
            )
    emit(own, {"command": command, "user": own.user, "path": path, "changed": done}, lambda: text)
    return EXIT_OK


def _pip_state() -> dict[str, Any]:
    """Which pip this interpreter has, and whether its patch point is where the hook expects it."""
    try:
        import pip
        from pip._internal.utils import compatibility_tags
    except Exception as exc:
        return {
            "version": None,
            "location": None,
            "patch_point": False,
            "error": f"{type(exc).__name__}: {exc}",
        }
    from .pip_hook import _accepts_platforms

    func = getattr(compatibility_tags, "get_supported", None)
    func = getattr(func, "_alpinetags_original", func)
    return {
        "version": getattr(pip, "__version__", None),
        "location": os.path.dirname(pip.__file__ or ""),
        "patch_point": _accepts_platforms(func),
        "error": None,
    }


def _status(own: argparse.Namespace) -> int:
    from . import _pth
    from .pip_hook import OFF_ENV, hook_enabled, host_platforms

    files = {}
    for scope, user in (("site", False), ("user", True)):
        path = _pth.pth_path(user)
        files[scope] = path if os.path.exists(path) else None
    loaded = any(getattr(f, "alpinetags_pip_hook", False) for f in sys.meta_path)
    switched_off = not hook_enabled(os.environ)
    pip_state = _pip_state()
    fault = None
    try:
        added = host_platforms(os.environ)
    except Exception as exc:
        added, fault = [], f"{type(exc).__name__}: {exc}"
    on = loaded and not switched_off and bool(pip_state["patch_point"])
    data = {
        "on": on,
        "pth_loaded_at_start": loaded,
        "pth_files": files,
        "switched_off_by": f"{OFF_ENV}={os.environ.get(OFF_ENV)}" if switched_off else None,
        "pip": pip_state,
        "platforms_added": added,
        "fault": fault,
    }

    def text() -> str:
        lines = [f"pip hook: {'on' if on else 'off'}"]
        for scope, path in files.items():
            lines.append(f"  {scope} .pth:  {path or '(none)'}")
        lines.append(f"  loaded by this interpreter at start: {'yes' if loaded else 'no'}")
        if switched_off:
            lines.append(f"  switched off by {data['switched_off_by']}")
        if pip_state["version"]:
            point = "found" if pip_state["patch_point"] else "NOT found (pip keeps its tags)"
            lines.append(f"  pip {pip_state['version']} in {pip_state['location']}; patch point {point}")
        else:
            lines.append(f"  pip not importable here: {pip_state['error']}")
        if fault:
            lines.append(f"  detection failed, pip would keep its tags: {fault}")
        elif added:
            lines.append("platforms pip gets before its own:")
            lines.extend(f"  {p}" for p in added)
        else:
            lines.append("no platform to add here: pip's own tags are unchanged")
        return "\n".join(lines)

    emit(own, data, text)
    return EXIT_OK if fault is None else EXIT_PROBE


def run_pip(pip_args: list[str]) -> int:
    """Run ``python -m pip PIP_ARGS`` in this process with the hook installed; pip's exit code."""
    import importlib.util
    import runpy

    from .pip_hook import install

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
