"""A real editor: Neovim, headless, runs the setup docs/editor.md shows and talks to ``initspec lsp``.

Neovim's own LSP client opens a ``.py`` config with a misspelt type and an unknown key; the test reads back
what ``vim.diagnostic.get`` holds (positions and codes), then the buffer after Neovim applied the quick fix
the server offered. Every wait inside Neovim is bounded by a timeout and counted; a missing ``nvim`` fails
when ``CI`` is set (``.ci/run`` installs Debian's ``neovim``) and only skips on a developer machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_docs import fenced_blocks

ROOT = Path(__file__).resolve().parents[1]
EDITOR_DOC = ROOT / "docs" / "editor.md"
DOCUMENTED_CMD = '{ "initspec", "lsp" }'
CONFIG = """\
model = dict(
    backbone=dict(init_cfg=dict(type='Kaimng', layer='Conv2d')),
    head=dict(init_cfg=dict(type='Normal', layer='Linear', stdd=0.01)),
)
"""
# After the setup: wait for the two diagnostics, save them, ask for the code actions on the first line of the
# typo, apply the one that fixes IS101, save the buffer, quit. Each step writes what it saw, or why it stopped.
DRIVER = r"""
local out = os.getenv("INITSPEC_NVIM_OUT")
local function save(name, value)
  local file = assert(io.open(out .. "/" .. name, "w"))
  file:write(vim.fn.json_encode(value))
  file:close()
end
vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    local polls = 0
    local arrived = vim.wait(60000, function()
      polls = polls + 1
      return #vim.diagnostic.get(0) >= 2
    end, 50)
    local found = {}
    for _, d in ipairs(vim.diagnostic.get(0)) do
      table.insert(found, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code, severity = d.severity })
    end
    save("diagnostics.json", { arrived = arrived, polls = polls, diagnostics = found })
    local typo
    for _, d in ipairs(vim.diagnostic.get(0)) do
      if d.code == "IS101" then typo = d end
    end
    if typo ~= nil then
      local params = {
        textDocument = vim.lsp.util.make_text_document_params(),
        range = { start = { line = typo.lnum, character = typo.col }, ["end"] = { line = typo.lnum, character = typo.col } },
        context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, typo.lnum) },
      }
      local answers = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 60000) or {}
      local titles = {}
      for _, answer in pairs(answers) do
        for _, action in ipairs(answer.result or {}) do
          table.insert(titles, { title = action.title, kind = action.kind })
          if action.kind == "quickfix" and action.diagnostics and action.diagnostics[1].code == "IS101" then
            vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
          end
        end
      end
      save("actions.json", titles)
    end
    save("buffer.json", vim.api.nvim_buf_get_lines(0, 0, -1, false))
    vim.cmd("qa!")
  end,
})
"""


def _nvim() -> str:
    found = shutil.which("nvim")
    if found is not None:
        return found
    fix = "install Neovim (Debian: apt-get install neovim; .ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(f"nvim is not on PATH: {fix}")
    pytest.skip(f"nvim is not on PATH: {fix} (this test fails instead of skipping when CI is set)")


def _documented_setup() -> str:
    """The Neovim 0.7 setup shown in docs/editor.md (the lua block with ``start_client``)."""
    blocks = [b.code for b in fenced_blocks(EDITOR_DOC.read_text(encoding="utf-8")) if b.lang == "lua"]
    [setup] = [code for code in blocks if "vim.lsp.start_client" in code]
    assert DOCUMENTED_CMD in setup
    return setup


def test_docs_setup_for_helix_is_valid_toml_and_runs_the_server() -> None:
    """The Helix languages.toml in docs/editor.md parses and adds `initspec lsp` to each of the four languages."""
    import tomllib  # Python 3.11+, as the Helix block's check needs nothing else

    section = EDITOR_DOC.read_text(encoding="utf-8").split("### Helix", 1)[1]
    table = tomllib.loads(next(b.code for b in fenced_blocks(section) if b.lang == "toml"))
    assert table["language-server"]["initspec"] == {"command": "initspec", "args": ["lsp"]}
    languages = {entry["name"]: entry["language-servers"] for entry in table["language"]}
    assert set(languages) == {"python", "json", "yaml", "toml"}
    assert all("initspec" in servers for servers in languages.values())


def test_neovim_shows_the_diagnostics_and_applies_the_quick_fix(tmp_path: Path) -> None:
    """Neovim's LSP client gets IS101 and IS102 at the right positions, and its quick fix corrects the type."""
    nvim = _nvim()
    command = "{ " + ", ".join(json.dumps(part) for part in [sys.executable, "-m", "initspec", "lsp"]) + " }"
    init = tmp_path / "init.lua"
    init.write_text(_documented_setup().replace(DOCUMENTED_CMD, command) + DRIVER, encoding="utf-8")
    config = tmp_path / "cfg.py"
    config.write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        "INITSPEC_NVIM_OUT": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    run = subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", str(init), str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads((tmp_path / "diagnostics.json").read_text(encoding="utf-8"))
    assert seen["arrived"] is True, seen
    found = sorted((d["code"], d["lnum"], d["col"], d["end_col"]) for d in seen["diagnostics"])
    typo_col = CONFIG.split("\n")[1].index("type='Kaimng'")
    key_col = CONFIG.split("\n")[2].index("stdd")
    assert found == [("IS101", 1, typo_col, typo_col + 4), ("IS102", 2, key_col, key_col + 4)]
    actions = json.loads((tmp_path / "actions.json").read_text(encoding="utf-8"))
    assert {"title": "replace 'Kaimng' with 'Kaiming'", "kind": "quickfix"} in actions
    assert {"title": "initspec: fix all in file", "kind": "source.fixAll"} in actions
    buffer = json.loads((tmp_path / "buffer.json").read_text(encoding="utf-8"))
    assert "\n".join(buffer) + "\n" == CONFIG.replace("'Kaimng'", "'Kaiming'")


def test_a_missing_nvim_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without nvim on PATH the editor test fails when CI is set, and only skips on a developer machine."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"nvim is not on PATH: install Neovim"):
        _nvim()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="fails instead of skipping when CI is set"):
        _nvim()
