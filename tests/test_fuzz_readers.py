"""A bounded hypothesis fuzz suite for every reader: any text gives a Document or a located DocumentError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initspec.cli.documents import Document, DocumentError, Loader
from initspec.cli.documents.model import plain

SUFFIXES = (".json", ".yaml", ".toml", ".py")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
fragments = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "=",
        "'",
        '"',
        "\n",
        "  ",
        "_base_",
        "init_cfg",
        "dict(",
        ")",
        "{{",
        "}}",
        "!!python/object",
        "&a",
        "*a",
        "<<:",
        "0x",
        "9" * 50,
        "#",
        "\\",
        "\t",
        "\x00",
        "é",
        "-",
    ]
)


def _check(suffix: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "cfg" + suffix)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            doc = Loader().load(path)
        except DocumentError as error:
            assert error.path == path
            assert error.message
            return
        assert isinstance(doc, Document)
        for loc in list(doc.positions)[:50]:  # every position a reader claims can be looked up
            line, col = doc.positions[loc]
            assert line >= 1 and col >= 1


def _as_python(value: object) -> str:
    return "model = " + repr(value) + "\n"


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(text=st.lists(fragments | st.text(max_size=6), max_size=30).map("".join))
def test_any_text_reads_or_fails_with_a_document_error(suffix: str, text: str) -> None:
    """Random fragments of config syntax never raise anything but DocumentError, in any reader."""
    _check(suffix, text)


@FUZZ
@given(value=values)
def test_any_data_round_trips_through_json_and_python(value: object) -> None:
    """Any JSON-shaped value written as JSON or as a .py assignment reads back equal."""
    with tempfile.TemporaryDirectory() as folder:
        as_json = Path(folder, "cfg.json")
        as_json.write_text(json.dumps({"model": value}), encoding="utf-8")
        as_py = Path(folder, "cfg.py")
        as_py.write_text(_as_python(value), encoding="utf-8")
        loader = Loader()
        assert loader.load(as_json).data == {"model": value}
        py = loader.load(as_py).data
        assert py == {"model": plain(value)}


@FUZZ
@given(value=values)
def test_any_data_written_as_yaml_reads_or_fails_cleanly(value: object) -> None:
    """JSON text is YAML too: it reads (equal, but for YAML's own typing) or fails with a DocumentError."""
    _check(".yaml", json.dumps({"model": value}))
