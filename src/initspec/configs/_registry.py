"""The initializer registry: type name -> config class and apply function, as a union that grows at run time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, TypeAlias, get_args

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from initspec.configs._root import InitializerConfig

__all__ = ["INITIALIZERS", "InitConfig", "InitializerRegistry", "type_name_of"]


class InitializerRegistry:
    """Maps a ``type`` name to its config class and apply function; the union grows at run time.

    Used as ``Annotated`` metadata, it validates through a discriminated union of the classes registered
    *now*, so a type registered after this module was imported parses with no model rebuild.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[InitializerConfig]] = {}
        self._appliers: dict[str, Callable[..., None] | None] = {}
        self._version = 0
        self._adapter: TypeAdapter[Any] | None = None
        self._adapter_version = -1
        self._validate_one: Callable[[Any], Any] = _unbuilt
        self._validate_many: Callable[[Any], Any] = _unbuilt

    def add(self, cls: type[InitializerConfig], apply_fn: Callable[..., None] | None) -> None:
        """Register ``cls`` under its ``type`` literal; a name already taken is an error."""
        name = type_name_of(cls)
        if name in self._classes:
            owner = self._classes[name].__qualname__
            msg = f'initializer type "{name}" is already registered by {owner}; choose another type name'
            raise ValueError(msg)
        self._classes[name] = cls
        self._appliers[name] = apply_fn
        self._version += 1

    def remove(self, name: str) -> None:
        """Forget a registered type (for tests and plugin reloads)."""
        del self._classes[name]
        del self._appliers[name]
        self._version += 1

    @property
    def names(self) -> tuple[str, ...]:
        """The registered type names, in registration order."""
        return tuple(self._classes)

    def get(self, name: str) -> type[InitializerConfig] | None:
        """The config class registered as ``name``, or ``None``."""
        return self._classes.get(name)

    def applier(self, name: str) -> Callable[..., None] | None:
        """The apply function registered with ``name`` (``None`` for the built-in types)."""
        return self._appliers.get(name)

    @property
    def version(self) -> int:
        """Bumped on every registration, so derived caches know when to rebuild."""
        return self._version

    @property
    def union(self) -> Any:
        """The discriminated union of the registered classes, as a type expression."""
        members = tuple(self._classes.values())
        union: Any = members[0] if len(members) == 1 else _union_of(members)
        return Annotated[union, Field(discriminator="type")]

    @property
    def adapter(self) -> TypeAdapter[Any]:
        """A cached ``TypeAdapter`` over the current union."""
        self._refresh()
        assert self._adapter is not None  # set by _refresh
        return self._adapter

    def validate_many(self, items: list[object]) -> tuple[InitializerConfig, ...]:
        """Validate a list of configs straight through the current union (the ``parse_init_cfg`` hot path)."""
        if self._adapter_version != self._version:
            self._refresh()
        result: tuple[InitializerConfig, ...] = self._validate_many(items)
        return result

    def _refresh(self) -> None:
        """Rebuild the union adapters if the registry changed since they were built."""
        if self._adapter is not None and self._adapter_version == self._version:
            return
        self._adapter = TypeAdapter(self.union)
        many: TypeAdapter[Any] = TypeAdapter(tuple[self.union, ...])  # type: ignore[name-defined]
        self._validate_one = self._adapter.validator.validate_python
        self._validate_many = many.validator.validate_python
        self._adapter_version = self._version

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        classes = self._classes

        def dispatch(value: Any) -> Any:
            if (
                type(value) is not dict
                and isinstance(value, InitializerConfig)
                and type(value) in classes.values()
            ):
                return value
            if self._adapter_version != self._version:
                self._refresh()
            return self._validate_one(value)

        return core_schema.no_info_plain_validator_function(
            dispatch, serialization=core_schema.simple_ser_schema("any")
        )

    def __get_pydantic_json_schema__(self, cs: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(self.adapter.core_schema)


def _unbuilt(value: Any) -> Any:
    raise AssertionError("the registry's adapters are built before first use")  # pragma: no cover


def _union_of(members: tuple[type[InitializerConfig], ...]) -> Any:
    from typing import Union

    return Union[members]  # noqa: UP007 - built from a run-time tuple


def type_name_of(cls: type[InitializerConfig]) -> str:
    """The ``type`` literal of a config class; a class without a single-literal ``type`` is an error."""
    field = cls.model_fields.get("type")
    names = get_args(field.annotation) if field is not None else ()
    if len(names) != 1 or not isinstance(names[0], str):
        msg = f'{cls.__qualname__} must declare `type: Literal["Name"] = "Name"` to be registered'
        raise TypeError(msg)
    return names[0]


INITIALIZERS: Final = InitializerRegistry()
"""The process-wide registry behind ``InitConfig`` and ``parse_init_cfg``."""

InitConfig: TypeAlias = Annotated[InitializerConfig, INITIALIZERS]
"""Any registered initializer config, validated as a discriminated union on ``type``."""
