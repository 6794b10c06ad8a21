"""Requirements files read as pip reads them; pip itself is the oracle where it can be one."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpinetags.markers import Marker
from alpinetags.requirements import (
    Option,
    RequirementsError,
    filter_requirements,
    logical_lines,
    parse_options,
    read_requirements,
    split_args_options,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_comments_continuations_and_blank_lines() -> None:
    content = (
        "# a comment\n"
        "\n"
        "requests>=2 \\\n"
        "  ; libc == 'musl'  # trailing comment\n"
        "pkg#egg=x\n"  # no whitespace before '#': not a comment
        "  # indented comment ending in a backslash \\\n"
        "six\n"
        "last \\\n"
    )
    assert logical_lines(content) == [
        (3, "requests>=2   ; libc == 'musl'"),
        (5, "pkg#egg=x"),
        (7, "six"),
        (8, "last"),
    ]


def test_names_extras_specifiers_urls_and_markers(tmp_path: Path) -> None:
    f = write(
        tmp_path / "r.txt",
        "\n".join(
            [
                "Requests[Security,socks] >=2.31, <3 ; libc == 'musl' and distro_version >= '3.18'",
                "pyyaml @ https://example.org/PyYAML-6.0.tar.gz ; python_version >= '3.8'",
                "https://example.org/x-1.0-py3-none-any.whl; sys_platform == 'linux'",
                "https://example.org/x.whl;libc=='musl'",  # a bare URL needs '; ': no marker
                "git+https://github.com/pypa/sampleproject@main#egg=sampleproject",
                "./local/pkg[extra1] ; libc == 'glibc'",
                "numpy==1.26.4 --hash=sha256:abc --hash sha256:def",
            ]
        ),
    )
    lines = read_requirements(str(f))
    got = [
        (r.lineno, r.name, r.extras, r.specifier, r.url, str(r.marker) if r.marker else None) for r in lines
    ]
    assert got == [
        (
            1,
            "Requests",
            ("Security", "socks"),
            "<3,>=2.31",
            "",
            'libc == "musl" and distro_version >= "3.18"',
        ),
        (2, "pyyaml", (), "", "https://example.org/PyYAML-6.0.tar.gz", 'python_version >= "3.8"'),
        (3, "", (), "", "https://example.org/x-1.0-py3-none-any.whl", 'sys_platform == "linux"'),
        (4, "", (), "", "https://example.org/x.whl;libc=='musl'", None),
        (
            5,
            "sampleproject",
            (),
            "",
            "git+https://github.com/pypa/sampleproject@main#egg=sampleproject",
            None,
        ),
        (6, "", ("extra1",), "", "./local/pkg", 'libc == "glibc"'),
        (7, "numpy", (), "==1.26.4", "", None),
    ]
    assert lines[6].options == (Option("--hash", "sha256:abc"), Option("--hash", "sha256:def"))
    assert lines[6].output() == "numpy==1.26.4 --hash=sha256:abc --hash sha256:def"
    assert lines[0].output() == "Requests[Security,socks] >=2.31, <3"


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "deeper" / "c.txt", "cpkg\n")
    write(tmp_path / "sub" / "b.txt", "bpkg\n--requirement=deeper/c.txt\n")
    top = write(
        tmp_path / "a.txt", "apkg\n-r sub/b.txt\n-rsub/deeper/c.txt\n--requirem sub/deeper/c.txt\nzpkg\n"
    )
    lines = read_requirements(str(top))
    assert [(Path(r.path).name, r.lineno, r.name) for r in lines] == [
        ("a.txt", 1, "apkg"),
        ("b.txt", 1, "bpkg"),
        ("c.txt", 1, "cpkg"),
        ("c.txt", 1, "cpkg"),
        ("c.txt", 1, "cpkg"),
        ("a.txt", 5, "zpkg"),
    ]


def test_include_loop_is_an_error_naming_the_chain(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "bpkg\n-r a.txt\n")
    top = write(tmp_path / "a.txt", "apkg\n-r b.txt\n")
    with pytest.raises(RequirementsError) as info:
        read_requirements(str(top))
    assert info.value.path.endswith("b.txt") and info.value.lineno == 2
    assert "include loop" in str(info.value)
    assert str(info.value).count("a.txt") == 2


def test_missing_include_names_the_including_line(tmp_path: Path) -> None:
    top = write(tmp_path / "a.txt", "apkg\n\n-r nothere.txt\n")
    with pytest.raises(RequirementsError, match=r"a\.txt:3: cannot read included file .*nothere\.txt"):
        read_requirements(str(top))


@pytest.mark.parametrize(
    ("content", "lineno", "fragment"),
    [
        ("ok\n\nfoo >= ; libc == 'musl'\n", 3, "invalid requirement"),
        ("ok\nfoo ; libc = 'musl'\n", 2, "invalid marker"),
        ("ok\n--no-such-option\n", 2, "no such option"),
        ("ok\n--index-url\n", 2, "requires an argument"),
        ("ok\nfoo \\\n ; libc ==\n", 2, "invalid marker"),  # a joined line keeps its first number
        ("-e\n", 1, "requires an argument"),
    ],
)
def test_bad_line_is_an_error_with_its_number(
    tmp_path: Path, content: str, lineno: int, fragment: str
) -> None:
    f = write(tmp_path / "r.txt", content)
    with pytest.raises(RequirementsError) as info:
        read_requirements(str(f))
    assert info.value.lineno == lineno
    assert str(info.value).startswith(f"{f}:{lineno}: ")
    assert fragment in str(info.value)


def test_options_as_optparse_reads_them() -> None:
    assert parse_options("-i https://a --extra-index https://b --pre") == (
        Option("--index-url", "https://a"),
        Option("--extra-index-url", "https://b"),
        Option("--pre"),
    )
    with pytest.raises(ValueError, match="does not take a value"):
        parse_options("--pre=yes")
    with pytest.raises(ValueError, match="ambiguous option: --req"):
        parse_options("--req x.txt")  # --requirement or --require-hashes


def test_constraints_and_find_links_become_absolute(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    f = write(tmp_path / "r.txt", "-c constraints.txt\n-f wheels\n-f elsewhere\n--index-url ${INDEX}\n")
    lines = read_requirements(str(f), environ={"INDEX": "https://secret@example.org/simple"})
    assert [r.output() for r in lines] == [
        f"--constraint {tmp_path / 'constraints.txt'}",
        f"--find-links {tmp_path / 'wheels'}",
        "-f elsewhere",  # pip looks beside the file first, then where it is run
        "--index-url ${INDEX}",  # printed unexpanded: pip expands it again, logs stay clean
    ]


def test_environment_variables_expand_in_requirements(tmp_path: Path) -> None:
    f = write(tmp_path / "r.txt", "demo @ https://${HOST}/demo-1.0.tar.gz\n")
    [line] = read_requirements(str(f), environ={"HOST": "example.org"})
    assert line.url == "https://example.org/demo-1.0.tar.gz"
    assert line.output() == "demo @ https://${HOST}/demo-1.0.tar.gz"


def test_bom_and_encodings(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_bytes("demo ; libc == 'musl'\n".encode("utf-16"))  # with its BOM
    [line] = read_requirements(str(f))
    assert line.name == "demo"
    f.write_bytes(b"demo\xc3\x28 bad")
    with pytest.raises(RequirementsError, match="not utf-8"):
        read_requirements(str(f))


def test_filter_keeps_the_lines_whose_markers_hold(tmp_path: Path) -> None:
    f = write(
        tmp_path / "r.txt",
        "--index-url https://pypi.org/simple\n"
        "musl-only ; libc == 'musl'\n"
        "glibc-only ; libc == 'glibc'\n"
        "new-alpine ; distro_id == 'alpine' and distro_version >= '3.18'\n"
        "everywhere\n",
    )
    env = {"libc": "musl", "libc_version": "1.2.4", "distro_id": "alpine", "distro_version": "3.19.1"}
    kept = [r.output() for r in filter_requirements(read_requirements(str(f)), env)]
    assert kept == ["--index-url https://pypi.org/simple", "musl-only", "new-alpine", "everywhere"]


def test_filter_error_names_the_line(tmp_path: Path) -> None:
    f = write(tmp_path / "r.txt", "a\nb ; distro == 'alpine'\n")
    with pytest.raises(RequirementsError, match=r"r\.txt:2: Unknown marker variable 'distro'"):
        filter_requirements(read_requirements(str(f)), {"libc": "musl"})


# ------------------------------------------------------------------------------------------------
# pip as the oracle: the same requirements, lines, numbers and options from pip's own parser
# ------------------------------------------------------------------------------------------------

PIP_TREE = {
    "requirements.txt": (
        "# top\n"
        "--index-url https://pypi.org/simple\n"
        "requests[socks]>=2.31,<3 ; python_version >= '3.8'  # comment\n"
        "-r sub/base.txt\n"
        "numpy==1.26.4 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        "pyyaml @ https://example.org/PyYAML-6.0.tar.gz ; sys_platform == 'linux'\n"
        "https://example.org/x-1.0-py3-none-any.whl; os_name == 'posix'\n"
        "-e git+https://github.com/pypa/sampleproject#egg=sampleproject\n"
        "--pre\n"
    ),
    "sub/base.txt": "six \\\n  ==1.16.0\n--requirement more.txt\n",
    "sub/more.txt": "\n\nattrs ; extra == ''\n",
}


def test_same_lines_as_pip(tmp_path: Path) -> None:
    try:
        from pip._internal.network.session import PipSession
        from pip._internal.req.req_file import parse_requirements
    except ImportError as exc:  # pragma: no cover - pip's internals moved
        pytest.fail(
            f"pip's requirements parser is the oracle here and cannot be imported ({exc}); pip install pip"
        )
    for name, text in PIP_TREE.items():
        write(tmp_path / name, text)
    top = str(tmp_path / "requirements.txt")
    theirs = []
    for req in parse_requirements(top, session=PipSession()):
        # comes_from is "-r FILE (line N)"
        where = req.comes_from.split(" ", 1)[1]
        path, _, number = where.rpartition(" (line ")
        theirs.append(
            # pip 23 gives an editable line no options (None), pip 26 an empty dict: both mean "none".
            (
                Path(path).name,
                int(number.rstrip(")")),
                req.requirement.strip(),
                req.is_editable,
                req.options or {},
            )
        )
    ours = []
    for line in read_requirements(top):
        if line.kind not in ("requirement", "editable"):
            continue
        if line.kind == "editable":
            requirement, options = line.options[0].value or "", {}
        else:
            requirement = split_args_options(line.text)[0]
            assert requirement.startswith(line.requirement)
            hashes: dict[str, list[str]] = {}
            for o in line.options:
                algo, _, digest = (o.value or "").partition(":")
                hashes.setdefault(algo, []).append(digest)
            options = {"hashes": hashes} if hashes else {}
        ours.append(
            (Path(line.path).name, line.lineno, requirement.strip(), line.kind == "editable", options)
        )
    assert ours == theirs
    markers = [Marker(t[2].split(";", 1)[1]) for t in theirs if ";" in t[2]]
    assert [str(r.marker) for r in read_requirements(top) if r.marker] == [str(m) for m in markers]
