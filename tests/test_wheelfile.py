"""Retagging real wheels (``alpinetags._wheel.wheelfile``): every copy is judged by tools that are not ours.

``python -m wheel unpack`` (pinned wheel 0.48.0) checks every RECORD hash and size; packaging parses the
new file name; the test recomputes the RECORD hashes with hashlib itself; every member but WHEEL, METADATA
and RECORD must be byte-identical to the input, and the input must not change.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import parse_wheel_filename

from alpinetags._wheel import wheelfile
from alpinetags.errors import ConfigError, InputRefused
from tests import parts_wheel

pytestmark = pytest.mark.realparts


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheel_unpack(wheel: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    python = parts_wheel.tools_venv()
    return subprocess.run([str(python), "-m", "wheel", "unpack", "-d", str(dest), str(wheel)],
                          capture_output=True, text=True, check=False)  # fmt: skip


def record_problems(wheel: Path) -> list[str]:
    """RECORD checked with hashlib here (independent of wheelfile): every file listed once, right hash."""
    problems = []
    with zipfile.ZipFile(wheel) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
        rows = list(csv.reader(io.StringIO(zf.read(record_name).decode())))
        listed = {r[0]: r for r in rows if r}
        if sorted(listed) != sorted(names):
            problems.append(f"RECORD lists {sorted(set(listed) ^ set(names))} wrongly")
        for name in names:
            if name == record_name:
                continue
            data = zf.read(name)
            want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
            if listed.get(name, ["", "", ""])[1:] != [want, str(len(data))]:
                problems.append(f"{name}: RECORD says {listed.get(name)}, bytes say {want} {len(data)}")
    return problems


@pytest.fixture(scope="module")
def jiter_retagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, wheelfile.Retagged]:
    src = parts_wheel.real_wheel("jiter")
    before = sha256(src)
    out = tmp_path_factory.mktemp("retagged")
    done = wheelfile.retag(str(src), str(out), "alpine_3_9_x86_64", ["libfoo.so.1", "libbar.so.2"])
    return src, Path(done.path), before, done


def test_retagged_real_wheel_passes_wheel_unpack(
    jiter_retagged: tuple[Path, Path, str, object], tmp_path: Path
) -> None:
    _src, out, _before, _done = jiter_retagged
    proc = wheel_unpack(out, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "jiter-0.19.0" / "jiter" / "jiter.cpython-311-x86_64-linux-musl.so").is_file()
    assert record_problems(out) == []


def test_retag_changes_name_tags_metadata_and_nothing_else(
    jiter_retagged: tuple[Path, Path, str, wheelfile.Retagged],
) -> None:
    src, out, before, done = jiter_retagged
    assert sha256(src) == before, "the input wheel was modified"
    assert out.stat().st_mode & 0o777 == src.stat().st_mode & 0o777
    assert out.name == "jiter-0.19.0-cp311-cp311-alpine_3_9_x86_64.whl"
    name, version, _build, tags = parse_wheel_filename(out.name)
    assert (str(name), str(version)) == ("jiter", "0.19.0")
    assert {str(t) for t in tags} == {"cp311-cp311-alpine_3_9_x86_64"}
    assert done.tags == ("cp311-cp311-alpine_3_9_x86_64",)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        for info in a.infolist():
            if info.filename.endswith((".dist-info/WHEEL", ".dist-info/METADATA", ".dist-info/RECORD")):
                continue
            assert a.read(info) == b.read(info.filename), info.filename
            assert b.getinfo(info.filename).external_attr == info.external_attr
        wheel_text = b.read("jiter-0.19.0.dist-info/WHEEL").decode()
        old_wheel = a.read("jiter-0.19.0.dist-info/WHEEL").decode()
        metadata = b.read("jiter-0.19.0.dist-info/METADATA").decode()
        old_metadata = a.read("jiter-0.19.0.dist-info/METADATA").decode()
    assert [ln for ln in wheel_text.splitlines() if ln.startswith("Tag:")] == [
        "Tag: cp311-cp311-alpine_3_9_x86_64"
    ]
    assert [ln for ln in wheel_text.splitlines() if not ln.startswith("Tag:")] == [
        ln for ln in old_wheel.splitlines() if not ln.startswith("Tag:")
    ]
    # The two lines go after the headers; the long description (the body) is unchanged.
    head, _, body = metadata.partition("\n\n")
    old_head, _, old_body = old_metadata.partition("\n\n")
    assert body == old_body
    assert head.splitlines() == [
        *old_head.splitlines(),
        "Requires-External: libfoo.so.1",
        "Requires-External: libbar.so.2",
    ]
    assert wheelfile.requires_external(str(out)) == ("libfoo.so.1", "libbar.so.2")


def test_retag_twice_adds_no_duplicates_and_keeps_the_first_lines(
    jiter_retagged: tuple[Path, Path, str, wheelfile.Retagged], tmp_path: Path
) -> None:
    _src, out, _before, _done = jiter_retagged
    again = wheelfile.retag(str(out), str(tmp_path), "alpine_3_10_x86_64", ["libbar.so.2", "libbaz.so.3"])
    assert again.requires_external == ("libfoo.so.1", "libbar.so.2", "libbaz.so.3")
    assert wheel_unpack(Path(again.path), tmp_path / "u").returncode == 0


def test_retag_onto_the_input_is_refused(jiter_retagged: tuple[Path, Path, str, object]) -> None:
    _src, out, _before, _done = jiter_retagged
    before = sha256(out)
    with pytest.raises(wheelfile.WheelError, match="replace the input"):
        wheelfile.retag(str(out), str(out.parent), "alpine_3_9_x86_64", [])
    assert sha256(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name], "a temporary file was left behind"


def test_compressed_tag_set_is_replaced_in_name_and_every_tag_line(tmp_path: Path) -> None:
    """A wheel of several tags (py2.py3 / several platforms): each python-abi pair keeps one Tag line."""
    src = shutil.copy2(parts_wheel.real_wheel("markupsafe"), tmp_path / "in.whl")
    multi = tmp_path / "markupsafe-3.0.4-cp311-cp311-musllinux_1_2_x86_64.manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(multi, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/WHEEL"):
                data += b"Tag: cp311-cp311-manylinux_2_17_x86_64\n"
            zout.writestr(info, data)
    done = wheelfile.retag(str(multi), str(tmp_path), "alpine_3_16_x86_64")
    assert Path(done.path).name == "markupsafe-3.0.4-cp311-cp311-alpine_3_16_x86_64.whl"
    assert done.tags == ("cp311-cp311-alpine_3_16_x86_64",)
    assert record_problems(Path(done.path)) == []


def test_record_signatures_are_left_out(tmp_path: Path) -> None:
    src = parts_wheel.real_wheel("markupsafe")
    signed = tmp_path / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(signed, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("markupsafe-3.0.4.dist-info/RECORD.jws", b"{}")
    out = tmp_path / "out"
    out.mkdir()
    done = wheelfile.retag(str(signed), str(out), "alpine_3_16_x86_64")
    assert done.dropped == ("markupsafe-3.0.4.dist-info/RECORD.jws",)
    assert record_problems(Path(done.path)) == []


def _broken(tmp_path: Path, how: str) -> Path:
    src = parts_wheel.real_wheel("markupsafe")
    path = tmp_path / src.name
    if how == "not-a-zip":
        path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    elif how == "truncated":
        path.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    else:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
            for info in zin.infolist():
                if how == "no-wheel-file" and info.filename.endswith("/WHEEL"):
                    continue
                data = zin.read(info)
                if how == "no-tag" and info.filename.endswith("/WHEEL"):
                    data = b"Wheel-Version: 1.0\n"
                if how == "bad-record" and info.filename.endswith("/RECORD"):
                    data = b"a,b\n"
                zout.writestr(info, data)
            if how == "duplicate":
                with pytest.warns(UserWarning):
                    zout.writestr("markupsafe/__init__.py", b"")
    return path


@pytest.mark.parametrize(
    "how", ["not-a-zip", "truncated", "no-wheel-file", "no-tag", "bad-record", "duplicate"]
)
def test_bad_wheels_are_a_typed_error(tmp_path: Path, how: str) -> None:
    path = _broken(tmp_path, how)
    out = tmp_path / "out"
    out.mkdir()
    # a name twice in the central directory is a bomb's layout: refused as hostile, not merely bad
    with pytest.raises(InputRefused if how == "duplicate" else wheelfile.WheelError):
        wheelfile.retag(str(path), str(out), "alpine_3_16_x86_64")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("platform", ["Alpine_3_16", "alpine-3-16", "", "alpine_3_16_x86_64/../x"])
def test_a_platform_that_is_not_a_tag_is_refused(tmp_path: Path, platform: str) -> None:
    with pytest.raises(ConfigError):
        wheelfile.retag(str(parts_wheel.real_wheel("markupsafe")), str(tmp_path), platform)
    assert list(tmp_path.iterdir()) == []


def test_requires_external_reads_what_others_wrote(tmp_path: Path) -> None:
    """Versions and markers around a name (core metadata allows both) are not part of it."""
    src = parts_wheel.real_wheel("markupsafe")
    path = tmp_path / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/METADATA"):
                head, sep, body = data.partition(b"\n\n")
                data = head + b"\nRequires-External: C\nRequires-External: libpng (>=1.5)\n"
                data += b'Requires-External: libssl.so.3; sys_platform == "linux"' + sep + body
            zout.writestr(info, data)
    assert wheelfile.requires_external(str(path)) == ("C", "libpng", "libssl.so.3")
    assert wheelfile.requires_external(str(src)) == ()


_header_names = st.sampled_from(["Name", "Version", "Summary", "Classifier", "Requires-Dist", "Description"])
_values = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).map(str.strip)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(st.tuples(_header_names, _values), min_size=1, max_size=8),
    body=st.text(max_size=200),
    sonames=st.lists(st.from_regex(r"lib[a-z]{1,8}\.so\.[0-9]{1,2}", fullmatch=True), max_size=4),
    crlf=st.booleans(),
)
def test_requires_external_lines_go_after_the_headers_and_leave_the_body(
    headers: list[tuple[str, str]], body: str, sonames: list[str], crlf: bool
) -> None:
    nl = "\r\n" if crlf else "\n"
    head = "Metadata-Version: 2.1" + nl + "".join(f"{k}: {v}{nl}" for k, v in headers)
    metadata = head + (nl + body if body else "")
    out = wheelfile._with_requires_external(metadata, sonames)
    assert wheelfile.parse_requires_external(out) == tuple(dict.fromkeys(sonames))
    added = "".join(f"Requires-External: {s}{nl}" for s in dict.fromkeys(sonames))
    assert out == head + added + (nl + body if body else "")
