"""``initspec lsp``: a Language Server Protocol server for init_cfg in ``.py``, JSON, YAML and TOML configs.

positions.py    initspec's 1-based code-point positions to LSP's 0-based UTF-16 ones
catalog.py      what completion and hover say: the JSON Schema's descriptions, defaults, closed sets, ranges
cursor.py       where the cursor is, as data: the init_cfg dict, its type and keys, the key being written
context.py      finding it: a bracket scanner (Python, JSON, TOML inline tables), one statement at a time
blocks.py       finding it in YAML block mappings and TOML tables
diagnostics.py  the validate engine on the open buffers
board.py        what each checked document said about each file
completion.py   completion items;  hover.py  hover text;  actions.py  quick fixes and fix all
server.py       the pygls server that wires them to the protocol
"""
