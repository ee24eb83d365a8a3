"""What a newcomer meets first: the install lines, a torch-less ``explain``, the license, and ``.ci/run``."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_INSTALL = re.compile(r"pip install ([^`#\n]*?)\s*(?:#\s*(.*))?$")
_PROJECT_SPEC = re.compile(r"""^(?:-e\s+)?["']?(\.|initspec)(?:\[([\w,]*)\])?["']?$""")


@cache
def _project() -> dict[str, Any]:
    import tomllib  # Python 3.11+, as CI runs

    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))


def _install_lines() -> list[tuple[str, str, str]]:
    """``(where, what is installed, the comment)`` for each ``pip install`` line of the docs' bash blocks."""
    found = []
    for path in DOC_FILES:
        in_bash = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("```"):
                in_bash = line.strip() in ("```bash", "```sh", "```console")
                continue
            for command in line.split("&&") if in_bash else []:
                if match := _INSTALL.search(command.strip()):
                    found.append((f"{path.name}:{number}", match[1].strip(), match[2] or ""))
    return found


def _extras(spec: str) -> set[str] | None:
    """The extras a project install names (``".[torch,yaml]"``), or None when it installs something else."""
    match = _PROJECT_SPEC.match(spec)
    return None if match is None else set(filter(None, (match[2] or "").split(",")))


def _requirements(extras: set[str]) -> set[str]:
    names = list(_project()["project"]["dependencies"])
    for extra in extras:
        names += _project()["project"]["optional-dependencies"][extra]
    return {re.split(r"[<>=\[ ;]", name, maxsplit=1)[0].lower() for name in names}


def test_the_docs_hold_install_lines_of_the_project() -> None:
    """The finder sees the install blocks (a slip in it would pass every check below vacuously)."""
    projects = [spec for _, spec, _ in _install_lines() if _extras(spec) is not None]
    assert len(projects) >= 6, projects


@pytest.mark.parametrize(("where", "spec", "comment"), _install_lines(), ids=lambda value: str(value)[:40])
def test_each_install_line_installs_what_its_comment_says(where: str, spec: str, comment: str) -> None:
    """A line whose comment says torch comes with it installs torch; one that says "no torch" does not."""
    extras = _extras(spec)
    if extras is None:
        assert "[" not in spec or spec[0] in "\"'", f"{where}: quote {spec!r}: zsh globs its brackets"
        return
    assert "[" not in spec or spec.lstrip("-e ")[0] in "\"'", (
        f"{where}: quote {spec!r}: zsh globs its brackets"
    )
    assert extras <= set(_project()["project"]["optional-dependencies"]), (
        f"{where}: unknown extra in {spec!r}"
    )
    installed = _requirements(extras)
    if "no torch" in comment:
        assert "torch" not in installed, f"{where}: {spec!r} installs torch, but its comment says no torch"
    elif "torch" in comment:
        assert "torch" in installed, f"{where}: {spec!r} does not install torch, but its comment says it does"


def test_the_license_is_an_spdx_expression_that_setuptools_reads() -> None:
    """``license = "Apache-2.0"`` (PEP 639), with a setuptools new enough to take it without a warning."""
    assert _project()["project"]["license"] == "Apache-2.0"
    [setuptools] = [r for r in _project()["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert match is not None, setuptools
    assert int(match[1]) >= 77, "setuptools reads an SPDX license string from version 77"


@pytest.mark.parametrize(
    "block",
    [
        pytest.param("sys.modules['torch'] = None", id="not installed"),
        pytest.param("sys.path.insert(0, {shadow!r})", id="an import that fails"),
    ],
)
def test_explain_without_torch_is_one_line_naming_the_extra(tmp_path: Path, block: str) -> None:
    """``initspec explain`` with torch unimportable prints one line naming the install command, exit 2."""
    shadow = tmp_path / "shadow"
    (shadow / "torch").mkdir(parents=True)
    (shadow / "torch" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n", encoding="utf-8"
    )
    argv = [
        "initspec",
        "explain",
        "examples/configs/retinanet_head.json",
        "--model",
        "examples/model.py:build_model",
    ]
    code = (
        f"import sys\n{block.format(shadow=str(shadow))}\n"
        f"sys.argv = {argv!r}\n"
        "from initspec.__main__ import console\nraise SystemExit(console())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert result.stderr, "no message on stderr"
    assert result.stderr.splitlines() == [
        "initspec explain: error: initspec explain needs PyTorch, which is not installed; install it with "
        '`pip install "initspec[torch]"` (initspec validate and initspec schema work without it)'
    ]
    assert (result.returncode, result.stdout) == (2, "")


def _pip_installs(script: Path) -> list[tuple[bool, list[str]]]:
    """Each ``pip install`` of a CI script, in order, with ``bash scripts/...`` expanded: (--no-deps, names)."""
    text = script.read_text(encoding="utf-8").replace("\\\n", " ")
    found: list[tuple[bool, list[str]]] = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["bash"] and words[1:2] and words[1].startswith("scripts/"):
            found += _pip_installs(ROOT / words[1])
        elif "()" in line:  # a shell function's definition, such as pip_install() { ... }
            continue
        elif words[:1] == ["pip_install"] or ("pip" in words and "install" in words):
            args = words[1:] if words[0] == "pip_install" else words[words.index("install") + 1 :]
            names = [_name(a) for a in args if not a.startswith("-") and not a.startswith(".")]
            found.append(("--no-deps" in args, [n for n in names if n and n != ".ci/constraints.txt"]))
    return found


def _name(requirement: str) -> str:
    return re.split(r"[<>=\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_ci_installs_each_package_once_resolving_before_no_deps() -> None:
    """.ci/run names each package once, and every --no-deps install comes after the resolving ones.

    pip re-checks the requirements of installed packages that depend on what it installs; mmengine and mmcv-lite,
    installed with --no-deps, require opencv-python (replaced by the headless build), so a resolving install
    after them prints a resolver error.
    """
    installs = _pip_installs(ROOT / ".ci" / "run")
    names = [name for _, found in installs for name in found]
    assert {"torch", "mmengine", "mmdet", "addict"} <= set(names)
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
    flags = [no_deps for no_deps, _ in installs]
    assert flags == sorted(flags), "a resolving pip install runs after a --no-deps one"


def test_ci_installs_the_system_packages_other_suites_need() -> None:
    """.ci/run installs neovim and chromium with apt-get, when it runs as root."""
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"apt_get install -y -qq neovim chromium", text)
    assert 'id -u)" -eq 0' in text
