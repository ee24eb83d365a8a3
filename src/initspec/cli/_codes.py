"""The table of the stable codes ``initspec validate`` reports; each problem carries its code from where it is made."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

__all__ = ["CODES", "Code"]


class Code(NamedTuple):
    """A problem code: its default severity and a one-line summary (the docs table is checked against it)."""

    severity: Literal["error", "warning", "note"]
    summary: str


CODES: Final[dict[str, Code]] = {
    "IS001": Code(
        "error", "the file cannot be read: missing, not a regular file, over the byte cap, not UTF-8"
    ),
    "IS002": Code("error", "the file does not parse (syntax, a tag, an integer over 4,300 digits)"),
    "IS003": Code(
        "error", "a `_base_` problem: missing, cyclic, not literal, defined twice, or cannot merge"
    ),
    "IS004": Code("warning", "a `pkg::` base or `read_base()` package that is not installed"),
    "IS005": Code("error", "over a limit: nesting depth, value budget, `_base_` depth or count"),
    "IS100": Code("error", "an invalid value (type, range, closed set)"),
    "IS101": Code("error", "an unknown initializer type"),
    "IS102": Code("error", "an unknown key for the initializer"),
    "IS103": Code("error", "a required argument or `type` is missing"),
    "IS104": Code("error", "an override that sets arguments without a `type`"),
    "IS201": Code("warning", "a config with neither `layer` nor `override`, which does nothing"),
    "IS202": Code("warning", "both `bias` and `bias_prob` (bias_prob wins)"),
    "IS203": Code("warning", "a TruncNormal `mean` more than 2 std outside [a, b]"),
    "IS204": Code("warning", "`layer` inside an override, which is ignored"),
    "IS205": Code("warning", "a placeholder `checkpoint=''`, to be set before init_weights"),
    "IS206": Code(
        "warning", "`--build`: a `layer` rule that matches no module of the built model, so it writes nothing"
    ),
    "IS207": Code("warning", "a legacy `pretrained=` beside an `init_cfg` in the same module dict"),
    "IS208": Code("warning", "`--build`: an init_cfg that `init_weights` never applies"),
    "IS209": Code(
        "error", "`--build`: a cached Pretrained checkpoint that does not fit (a `prefix` matching no key)"
    ),
    "IS210": Code(
        "error", "`--build`: an init_cfg that does not fit the built model (an override name not there)"
    ),
    "IS301": Code("error", "an initspec extension mmengine does not take (`--target mmengine`)"),
    "IS401": Code("warning", "a YAML value that YAML 1.1 (PyYAML, mmengine) reads differently"),
    "IS402": Code("note", "a YAML `!!python/...` value in a file with no `init_cfg`, left out"),
    "IS501": Code("note", "a value that is only known when the config runs, skipped"),
    "IS502": Code("note", "an init_cfg not checked because a value inside it was skipped"),
    "IS503": Code("note", "a statement that may set an init_cfg, not evaluated statically"),
    "IS504": Code("note", "a type the project's model code reads, declared in `model-code-types`"),
    "IS505": Code(
        "note", "`--build`: a model config that could not be built or whose init_weights could not run"
    ),
    "IS506": Code("note", "an init_cfg set in the file that the config as read does not hold, not checked"),
    "IS901": Code("warning", "an unused suppression (`--strict`)"),
}
