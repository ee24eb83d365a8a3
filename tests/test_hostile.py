"""Hostile files (issue 15): bounded evaluation, huge integers, deep nesting, special files, size caps, memory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import write
from initspec.cli import main
from initspec.cli.documents import DocumentError, Limits, Loader, load_document
from initspec.cli.documents.model import read_source
from workbound import within

HUGE = "9" * 5000


def _error(path: Path) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    return caught.value


# -- .py evaluation is bounded ------------------------------------------------------------------------------


def test_doubling_a_list_forty_times_is_a_located_budget_error(tmp_path: Path) -> None:
    """``a = a + a`` 40 times stops at the value budget with an IS005 error at the line, not out of memory."""
    path = write(tmp_path, "cfg.py", "a = ['x']\n" + "a = a + a\n" * 40)
    error = _error(path)
    assert error.code == "IS005"
    assert error.line is not None and 2 <= error.line <= 41
    assert "budget" in error.message


def test_nested_doubling_dicts_is_a_located_error_not_a_hang(tmp_path: Path) -> None:
    """``a = dict(x=a, y=a)`` 30 times is measured once per shared value: a few thousand calls, not 2^30."""
    path = write(tmp_path, "cfg.py", "a = dict()\n" + "a = dict(x=a, y=a)\n" * 30)
    error, _calls = within(50_000, _error, path)
    assert error.code == "IS005"
    assert "expands to more than" in error.message


def test_a_value_that_contains_itself_is_an_error(tmp_path: Path) -> None:
    """``a['x'] = a`` builds a cycle; it is a located error, never an endless walk."""
    error = _error(write(tmp_path, "cfg.py", "a = dict()\na['x'] = a\n"))
    assert (error.code, error.line) == ("IS005", 1)
    assert "contains itself" in error.message


def _chain(tmp_path: Path, depth: int, twice: str) -> Path:
    for level in range(depth):
        nxt = f"f{level + 1}.py"
        write(tmp_path, f"f{level}.py", twice.format(nxt=nxt, level=level))
    return write(
        tmp_path, f"f{depth}.py", "model = dict(init_cfg=dict(type='Normal', std=0.01, layer='Conv2d'))\n"
    )


def test_exponential_read_base_fan_out_reads_each_file_once(tmp_path: Path) -> None:
    """31 files, each importing the next twice (2^30 paths), validate in bounded work: each base read once."""
    twice = "from mmengine.config import read_base\nwith read_base():\n    from .{stem} import *\n    from .{stem} import *\n"
    for level in range(30):
        write(tmp_path, f"f{level}.py", twice.format(stem=f"f{level + 1}"))
    write(tmp_path, "f30.py", "model = dict(init_cfg=dict(type='Normal', std=0.01, layer='Conv2d'))\n")
    loader = Loader()
    doc, _calls = within(500_000, loader.load, tmp_path / "f0.py")
    assert loader.reads == 31
    assert doc.data == {"model": {"init_cfg": {"type": "Normal", "std": 0.01, "layer": "Conv2d"}}}
    code, _calls = within(1_000_000, main, ["validate", str(tmp_path)])
    assert code == 0


def test_exponential_base_list_fan_out_is_bounded_and_each_file_is_read_once(tmp_path: Path) -> None:
    """``_base_ = [next, next]`` down 30 levels: read once each, the double definition an error, bounded work."""
    _chain(tmp_path, 30, "_base_ = ['./{nxt}', './{nxt}']\n")
    loader = Loader()
    doc, _calls = within(200_000, loader.load, tmp_path / "f0.py")
    assert loader.reads == 31
    assert any(notice.code == "IS003" and "again" in notice.message for notice in doc.notices)


def test_base_depth_and_count_are_capped(tmp_path: Path) -> None:
    """A ``_base_`` chain deeper, or wider, than the caps is an IS005 error at the entry that goes over."""
    _chain(tmp_path, 10, "_base_ = './{nxt}'\nv{level} = {level}\n")
    doc = Loader(Limits(max_base_depth=4)).load(tmp_path / "f0.py")
    assert any(n.code == "IS005" and "deeper than 4" in n.message for n in doc.notices)
    doc = Loader(Limits(max_bases=3)).load(tmp_path / "f0.py")
    assert any(n.code == "IS005" and "number over 3" in n.message for n in doc.notices)


# -- integers over 4,300 digits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("cfg.json", '{\n  "init_cfg": {"type": "Normal", "std": ' + HUGE + "}\n}\n", 2),
        ("cfg.yaml", "init_cfg:\n  type: Normal\n  std: 0x" + "f" * 5000 + "\n", 3),
        ("cfg.yml", "init_cfg:\n  std: " + HUGE + "\n", 2),
        ("cfg.toml", "[init_cfg]\ntype = 'Normal'\nstd = 0x" + "f" * 5000 + "\n", 3),
        ("cfg.py", "x = 1\ninit_cfg = dict(type='Normal', std=0x" + "f" * 5000 + ")\n", 2),
        ("dec.py", "init_cfg = dict(std=" + HUGE + ")\n", 1),
    ],
)
def test_integers_over_4300_digits_are_located_errors(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    """A 5,000-digit integer (decimal or hex) in any format is an error at its line, never a traceback."""
    error = _error(write(tmp_path, name, text))
    assert error.line == line
    assert "4,300 digits" in error.message
    assert main(["validate", str(tmp_path / name)]) == 1


# -- deep nesting and parser memory ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("deep.py", "a = " + "-" * 200_000 + "1\n"),
        ("parens.py", "a = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n"),
        ("mid.json", '{"a": ' + "[" * 300 + "]" * 300 + "}"),
        ("names.py", "a = []\n" + "a = [a]\n" * 400),
    ],
)
def test_deep_nesting_is_a_located_error_in_every_format(tmp_path: Path, name: str, text: str) -> None:
    """Nesting deeper than the limit, however written, is a located error; validate exits 1, no traceback."""
    path = write(tmp_path, name, text)
    error = _error(path)
    assert error.line is not None
    assert error.code in {"IS002", "IS005"}
    result = subprocess.run(
        [sys.executable, "-m", "initspec", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,  # a hang guard only
    )
    assert result.stderr.endswith("checked 1 file, 0 init_cfgs: 1 error, 0 warnings\n"), result.stderr
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="sets the child's stack limit before exec")
def test_deep_nesting_is_an_error_not_a_crash_on_a_512_kib_stack(tmp_path: Path) -> None:
    """On a small main-thread stack (``ulimit -s 512``) deep files are still located errors, never a segfault.

    ``ast.parse`` of 200,000 unary minuses segfaulted at 512 KiB before the parsers ran on their own thread.
    """
    import resource

    texts = {
        "deep.py": "a = " + "-" * 200_000 + "1\n",
        "deep.yaml": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "block.yaml": "a:\n" + "- " * 5_000 + "x\n",
        "deep.json": '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    }
    paths = [str(write(tmp_path, name, text)) for name, text in texts.items()]

    def small_stack() -> None:
        resource.setrlimit(resource.RLIMIT_STACK, (512 * 1024, resource.getrlimit(resource.RLIMIT_STACK)[1]))

    result = subprocess.run(
        [sys.executable, "-m", "initspec", "validate", "--format", "json", *paths],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_stack,  # only sets a limit, before exec
        timeout=300,  # a hang guard only
    )
    assert result.stdout.startswith("{"), result.stderr
    assert result.returncode == 1, result.stderr
    errors = {Path(d["file"]).name: d for d in json.loads(result.stdout)["errors"]}
    assert set(errors) == set(texts)
    for error in errors.values():  # libyaml's own depth cap is a YAML syntax error (IS002)
        assert error["code"] in {"IS002", "IS005"}
        assert error["line"] is not None


# -- special files -----------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_skipped_in_a_directory_and_refused_when_named(tmp_path: Path) -> None:
    """A FIFO named ``x.yaml`` is not opened: skipped when walking, an IS001 error when named directly."""
    write(tmp_path, "ok.yaml", "init_cfg: {type: Constant, val: 1, layer: Linear}\n")
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main(["validate", str(tmp_path)])), daemon=True)
    worker.start()
    worker.join(10)
    assert done == [0]
    assert main(["validate", str(fifo)]) == 1
    with pytest.raises(DocumentError, match="not a regular file \\(a FIFO\\)"):
        load_document(fifo)


def test_a_symlink_to_dev_zero_and_a_socket_are_refused(tmp_path: Path) -> None:
    """``z.json -> /dev/zero`` is refused as a character device; a socket is skipped and refused."""
    link = tmp_path / "z.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(DocumentError, match="a character device"):
        load_document(link)
    server = socket.socket(socket.AF_UNIX)
    sock = tmp_path / "s.json"
    try:
        server.bind(str(sock))
    except OSError:
        pytest.skip("cannot bind a unix socket here")
    with server, pytest.raises(DocumentError, match="a socket"):
        load_document(sock)
    assert main(["validate", str(tmp_path / "none")]) == 2


def test_the_byte_cap_refuses_large_files_and_can_be_raised(tmp_path: Path) -> None:
    """A file over the cap is an IS001 error naming --max-bytes; raising the cap reads it."""
    path = write(tmp_path, "big.json", '{"pad": "' + "x" * 2000 + '"}')
    with pytest.raises(DocumentError, match="over the 1,000-byte cap; raise it with --max-bytes"):
        Loader(Limits(max_bytes=1000)).load(path)
    assert main(["validate", "--max-bytes", "1000", str(path)]) == 1
    assert main(["validate", "--max-bytes", "100000", str(path)]) == 0


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
def test_a_file_larger_than_its_stat_size_is_read_whole_and_still_capped() -> None:
    """A regular file whose stat size says 0 (``/proc``) is read to its end, and the cap still holds."""
    text = read_source(Path("/proc/self/status"), Limits())
    assert text.startswith("Name:")
    assert len(text) > 100
    with pytest.raises(DocumentError, match="11 bytes is over the 10-byte cap"):
        read_source(Path("/proc/self/status"), Limits(max_bytes=10))


# -- JSON memory -------------------------------------------------------------------------------------------


def test_a_50_mb_json_file_validates_in_well_under_1_gb(tmp_path: Path) -> None:
    """50 MB of JSON (a 10 MB string, 4M numbers, 100k dicts, an init_cfg) validates in under 1 GB peak RSS."""
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as out:
        out.write('{"blob": "' + 'ab\\\\c\\"' * 1_400_000 + '", "items": [')
        out.write(", ".join(["12345678"] * 3_900_000))
        out.write(", " + ", ".join(['{"k": [1, 2]}'] * 100_000))
        out.write('], "init_cfg": {"type": "Normal", "std": -1, "layer": "Conv2d"}}')
    assert path.stat().st_size > 50_000_000
    code = (
        "import re, sys\nfrom initspec.cli import main\n"
        "rc = main(['validate', '--max-bytes', '100000000', sys.argv[1]])\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking (large) pytest process
        "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(rc, peak)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False, timeout=600
    )
    assert len(result.stdout.split()) >= 2, result.stderr
    rc, peak_kb = result.stdout.split()[-2:]
    assert rc == "1"  # std=-1 is found and located
    assert "big.json:1:" in result.stdout
    assert int(peak_kb) < 600_000, f"peak RSS {int(peak_kb) // 1024} MB"  # json.loads alone: ~250 MB
