"""What real wheels, objects and roots need of the caps in ``alpinetags/_limits.py`` (docs/robustness.md).

Run by hand (it inflates every ELF member of every wheel given: minutes for gigabytes of wheels):

    python bench/bench_caps.py                       # the real parts: roots, wheels, this machine's libs
    python bench/bench_caps.py --wheels DIR_OR_WHL...  # more wheels (torch, nvidia-*: the largest on PyPI)
    python bench/bench_caps.py --cases                 # time and peak memory of each hostile case

For every ELF object: section headers, ``.dynsym`` entries, ``PT_DYNAMIC`` entries, distinct ``DT_NEEDED``
names, RPATH/RUNPATH entries, bytes of its dynamic string table; for every wheel: members, ELF members,
bytes inflated for the check, the largest ELF member; for every root: ``ld.so.conf`` files and the
entries of its musl path file. The largest of each is printed with the object that has it, beside the cap.
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alpinetags import _limits as limits
from alpinetags._elf.elfdynamic import DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_STRSZ, SHT_DYNSYM, _sections
from alpinetags._elf.elffile import ElfError, parse_elf
from alpinetags._elf.elfrelocs import DT_PLTREL, DT_PLTRELSZ, DT_RELA, DT_RELASZ, DT_RELSZ

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache"


def object_figures(f: BinaryIO, size: int) -> dict[str, int]:
    h = parse_elf(f, size)
    out = {"sections": h.shnum, "symbols": 0, "dynamic entries": 0, "needed": 0, "rpath entries": 0}
    out["string table bytes"] = 0
    out["relocations"] = 0
    try:
        for sec in _sections(f, size, h):
            if sec.type == SHT_DYNSYM:
                out["symbols"] = max(out["symbols"], sec.size // (24 if h.elf_class == 64 else 16))
    except ElfError:
        pass
    if h.dynamic is not None:
        fmt = ("<" if h.little_endian else ">") + ("qQ" if h.elf_class == 64 else "iI")
        f.seek(h.dynamic[0])
        raw = f.read(min(h.dynamic[1], 1 << 20))
        entries = []
        for tag, val in struct.iter_unpack(fmt, raw[: len(raw) - len(raw) % struct.calcsize(fmt)]):
            if tag == 0:
                break
            entries.append((tag, val))
        out["dynamic entries"] = len(entries)
        out["needed"] = len({v for t, v in entries if t == DT_NEEDED})
        out["string table bytes"] = dict(entries).get(DT_STRSZ, 0)
        # entries of the largest relocation table (what elfrelocs reads, for objects with TLS)
        entry = 8 if h.elf_class == 64 else 4
        values = dict(entries)
        rela, rel = values.get(DT_RELASZ, 0) // (3 * entry), values.get(DT_RELSZ, 0) // (2 * entry)
        plt = values.get(DT_PLTRELSZ, 0) // ((3 if values.get(DT_PLTREL) == DT_RELA else 2) * entry)
        out["relocations"] = max(rela, rel, plt)
        for tag in (DT_RPATH, DT_RUNPATH):
            if tag in dict(entries):
                from alpinetags._elf.elfdynamic import parse_dynamic_symbols

                f.seek(0)
                syms = parse_dynamic_symbols(f, size)
                out["rpath entries"] = max(len(syms.rpath), len(syms.runpath))
    return out


def files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for d, _dirs, names in os.walk(p):
                for n in names:
                    yield Path(d) / n
        elif p.exists():
            yield p


class Maxima:
    def __init__(self) -> None:
        self.best: dict[str, tuple[int, str]] = {}
        self.objects = 0

    def add(self, figures: dict[str, int], where: str) -> None:
        for k, v in figures.items():
            if v > self.best.get(k, (-1, ""))[0]:
                self.best[k] = (v, where)

    def show(self, caps: dict[str, int]) -> None:
        for k, (v, where) in sorted(self.best.items()):
            cap = caps.get(k)
            print(f"  {k:28} {v:>14,}  cap {cap:>14,}  ({where})" if cap else f"  {k:28} {v:>14,}  ({where})")


def scan_elf_files(paths: list[Path], m: Maxima) -> None:
    for path in files(paths):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size < 64:
                continue
            with open(path, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
                m.add(object_figures(f, path.stat().st_size), str(path))
                m.objects += 1
        except (OSError, ElfError, ValueError, struct.error):
            continue


def scan_wheels(paths: list[Path], objects: Maxima, wheels: Maxima) -> None:
    for path in files(paths):
        if path.suffix != ".whl":
            continue
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            continue
        with zf:
            infos = zf.infolist()
            inflated = largest = elf = symbols = names = relocations = 0
            for info in infos:
                if info.is_dir() or info.file_size < 64:
                    continue
                with zf.open(info) as raw:
                    if raw.read(4) != b"\x7fELF":
                        continue
                    elf += 1
                    inflated += info.file_size
                    largest = max(largest, info.file_size)
                    data = b"\x7fELF" + raw.read()
                try:
                    figures = object_figures(io.BytesIO(data), len(data))
                    symbols += figures["symbols"]
                    names += figures["string table bytes"]
                    relocations += figures["relocations"]
                    objects.add(figures, f"{path.name}!{info.filename}")
                    objects.objects += 1
                except (ElfError, struct.error):
                    pass
                del data
            wheels.add({"members": len(infos), "ELF members": elf, "bytes inflated": inflated,
                        "largest ELF member": largest, "symbols in one wheel": symbols,
                        "string table bytes in one wheel": names,
                        "relocations in one wheel": relocations}, path.name)  # fmt: skip
            wheels.objects += 1
            print(f"  {path.name}: {len(infos)} members, {elf} ELF, {inflated:,} bytes", file=sys.stderr)


def scan_roots(m: Maxima) -> None:
    from alpinetags._system.loadpath import _ld_so_conf, _musl_path_file
    from alpinetags.model import Target

    roots = [*sorted((CACHE / "realparts" / "alpine").glob("alpine-minirootfs-*")), Path("/")]
    for root in roots:
        target = Target(root=str(root))
        seen = set()
        for d, _dirs, names in os.walk(root / "etc"):
            seen.update(n for n in names if n.endswith(".conf") and "ld.so.conf" in d + n)
        dirs = _ld_so_conf(target, "/etc/ld.so.conf")
        path = _musl_path_file(target, "x86_64")
        figures = {"ld.so.conf files": len(seen), "ld.so.conf directories": len(dirs)}
        m.add({**figures, "musl path entries": len(path)}, str(root))
        m.objects += 1


def hostile_cases() -> None:
    """Each case of tests/test_hostile.py once, timed, with the peak memory of its process."""
    import tempfile

    from tests import realparts
    from tests.parts_hostile import Shape, bomb_wheel, deflated_zeros, elf_object, plain_wheel

    tmp = Path(tempfile.mkdtemp(prefix="bench-caps-"))
    root = realparts.copy_minirootfs("3.17", tmp / "root")
    libc = "libc.musl-x86_64.so.1"
    cases = {
        "400 dynamic headers x 60k DT_NEEDED (2 names)": elf_object(
            Shape(needed=["libnothere.so.1", libc] * 30_000, dynamic_headers=400)
        ),
        "60k distinct DT_NEEDED (refused)": elf_object(Shape(needed=[f"libx{i}.so" for i in range(60_000)])),
        "2000 RPATH x 2000 DT_NEEDED (refused)": elf_object(
            Shape(needed=[f"liby{i}.so" for i in range(2000)], rpath=":".join(f"/n/{i}" for i in range(2000)))
        ),
        "128 RPATH x 1000 DT_NEEDED (at the caps)": elf_object(
            Shape(needed=[f"liby{i}.so" for i in range(1000)], rpath=":".join(f"/n/{i}" for i in range(128)))
        ),
    }
    argvs = []
    for i, (name, data) in enumerate(cases.items()):
        (tmp / f"{i}.so").write_bytes(data)
        argvs.append((name, [str(tmp / f"{i}.so")]))
    tag = "py3-none-musllinux_1_2_x86_64"
    bomb = bomb_wheel(tmp / f"bomb-1.0-{tag}.whl", deflated_zeros(b"\x7fELF", 1000 << 20),
                      [f"b/x{i}.so" for i in range(8)], tag)  # fmt: skip
    argvs.append(("8 entries over one 1000 MiB member (refused)", [str(bomb)]))
    objects = {f"s/x{k}.so": elf_object(Shape(needed=[libc], undefined=[f"q{k}_{i}" for i in range(999_000)]))
               for k in range(5)}  # fmt: skip
    syms = plain_wheel(tmp / f"syms-1.0-{tag}.whl", objects, tag)
    argvs.append(("5 objects x 999,000 symbols (refused)", [str(syms)]))
    for name, args in argvs:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execv(
                sys.executable, [sys.executable, "-m", "alpinetags", "check", "--root", str(root), *args]
            )
        _pid, status, usage = os.wait4(pid, 0)
        took = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        print(f"  {name:48} exit {code}  {took:5.2f} s  {usage.ru_maxrss / 1024:6.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wheels", nargs="*", type=Path, default=[], help="more wheels or folders of wheels")
    parser.add_argument("--cases", action="store_true", help="time the hostile cases instead")
    args = parser.parse_args()
    if args.cases:
        hostile_cases()
        return 0
    caps = {"sections": limits.MAX_SECTIONS, "symbols": limits.MAX_SYMBOLS,
            "dynamic entries": limits.MAX_DYNAMIC_ENTRIES, "needed": limits.MAX_NEEDED,
            "rpath entries": limits.MAX_RPATH_ENTRIES, "members": limits.MAX_MEMBERS,
            "bytes inflated": limits.MAX_INFLATED, "largest ELF member": limits.MAX_MEMBER,
            "ld.so.conf files": limits.MAX_CONF_FILES,
            "musl path entries": limits.MAX_RPATH_ENTRIES, "symbols in one wheel": limits.MAX_CHECK_SYMBOLS,
            "string table bytes in one wheel": limits.MAX_CHECK_NAME_BYTES,
            "relocations": limits.MAX_RELOCATIONS,
            "relocations in one wheel": limits.MAX_CHECK_RELOCATIONS}  # fmt: skip
    objects, wheels, roots = Maxima(), Maxima(), Maxima()
    scan_elf_files([CACHE / "realparts", Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/bin")], objects)
    scan_wheels([CACHE / "realparts", CACHE / "experiments" / "wheels", *args.wheels], objects, wheels)
    scan_roots(roots)
    print(f"ELF objects ({objects.objects}):")
    objects.show(caps)
    print(f"wheels ({wheels.objects}):")
    wheels.show(caps)
    print(f"roots ({roots.objects}):")
    roots.show(caps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
