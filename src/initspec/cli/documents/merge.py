"""mmengine's two ways of putting one dict into another: ``_base_``/``.merge()`` rules and ``.update()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias

from initspec.cli.documents.model import Loc

__all__ = ["DELETE_KEY", "merge_into", "merged", "update_into"]

DELETE_KEY: Final = "_delete_"
_Dict: TypeAlias = dict[str | int, object]
Moved: TypeAlias = Callable[[object, object, "str | int"], None]
Conflict: TypeAlias = Callable[[Loc, object], Exception]


def _ignore(_source: object, _target: object, _key: str | int) -> None:
    return None


def merge_into(
    child: _Dict,
    base: _Dict | list[object],
    *,
    allow_list_keys: bool,
    conflict: Conflict,
    moved: Moved = _ignore,
    loc: Loc = (),
) -> None:
    """Merge ``child`` into ``base`` in place, as mmengine's ``Config._merge_a_into_b`` does.

    Dicts merge key by key, unless the child's dict says ``_delete_=True``; any other value, lists included,
    replaces. With ``allow_list_keys`` (``ConfigDict.merge``) a digit key indexes a base list.

    Raises:
        Exception: ``conflict(loc, base_value)`` for a dict that meets a value it cannot merge into.
    """
    for key, value in child.items():
        if allow_list_keys and isinstance(base, list) and isinstance(key, str) and key.isdigit():
            index = int(key)
            if index >= len(base) or not isinstance(value, dict):
                raise conflict((*loc, index), base)
            _merge_child(value, base, index, allow_list_keys, conflict, moved, (*loc, index))
            continue
        if isinstance(base, list):
            raise conflict((*loc, key), base)
        if isinstance(value, dict) and key in base and not value.pop(DELETE_KEY, False):
            _merge_child(value, base, key, allow_list_keys, conflict, moved, (*loc, key))
        else:
            base[key] = value
        moved(child, base, key)


def _merge_child(
    value: _Dict,
    base: _Dict | list[object],
    key: str | int,
    allow_list_keys: bool,
    conflict: Conflict,
    moved: Moved,
    loc: Loc,
) -> None:
    inherited = base[key]  # type: ignore[index]  # an int key for a list, checked by the caller
    allowed = (dict, list) if allow_list_keys else (dict,)
    if not isinstance(inherited, allowed):
        raise conflict(loc, inherited)
    merge_into(value, inherited, allow_list_keys=allow_list_keys, conflict=conflict, moved=moved, loc=loc)


def merged(child: _Dict, base: _Dict, *, conflict: Conflict, loc: Loc = ()) -> _Dict:
    """``child`` merged into ``base`` by the ``_base_`` rules, as a new dict: neither input is changed.

    Only the dicts on the paths the child sets are copied; everything else is shared with ``base``.
    """
    result = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and key in result:
            own = {k: v for k, v in value.items() if k != DELETE_KEY}
            if value.get(DELETE_KEY, False):
                result[key] = own
                continue
            inherited = result[key]
            if not isinstance(inherited, dict):
                raise conflict((*loc, key), inherited)
            result[key] = merged(own, inherited, conflict=conflict, loc=(*loc, key))
        else:
            result[key] = value
    return result


def update_into(other: _Dict, target: _Dict, moved: Moved = _ignore) -> None:
    """``target.update(other)`` as mmengine's ``ConfigDict.update``: a dict into a dict updates recursively."""
    for key, value in other.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            update_into(value, current, moved)
        else:
            target[key] = value
        moved(other, target, key)
