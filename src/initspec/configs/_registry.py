"""The initializer registry: type name -> config class and apply function, as a union that grows at run time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, TypeAlias, get_args

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from initspec.configs._root import InitializerConfig

__all__ = ["INITIALIZERS", "InitConfig", "InitializerRegistry", "Writer", "type_name_of"]

Fill: TypeAlias = Callable[[Any, Any, Any], None]
"""``fill(cfg, tensor, generator)``: write the whole tensor in place, drawing only from ``generator``
(torch's global RNG when it is ``None``)."""
Stream: TypeAlias = Callable[
    [Any], tuple[Literal["normal", "uniform"], Callable[[Any, tuple[int, ...]], None]]
]
"""``stream(cfg) -> (base, transform)``: the seeded block-stream form of a writer."""


@dataclass(frozen=True, slots=True)
class Writer:
    """How one initializer type fills a weight: the one table every fill path and plan-time check reads.

    Built-ins and ``register_initializer`` types alike have one; it holds callables but imports no torch.

    Attributes:
        fill: The unseeded write (mmengine's draws for the built-ins), also used with a per-tensor generator.
        stream: ``stream(cfg) -> (base, transform)`` for seeded block streams: ``base`` is ``"normal"`` or
            ``"uniform"`` draws, and ``transform(values, global_shape)`` maps them in place, elementwise.
            ``None``: a seeded or sharded write fills the full tensor from one ``(seed, name)`` generator.
        needs_fans: Computes fans from the shape, so the weight needs at least 2 dimensions.
        dims: The inclusive range of dimensions the weight may have (``None``: no upper bound).
        dtypes: ``"floating"`` (floating-point tensors only) or ``"any"``.
        random: Draws random numbers (an unseeded write to a sharded tensor is then refused).
        fills_local: The value does not depend on the position, so a shard is filled in place.
        check: ``check(cfg, shape) -> problem or None``: a further plan-time check of the global shape.
    """

    fill: Fill
    stream: Stream | None = None
    needs_fans: bool = False
    dims: tuple[int, int | None] = (0, None)
    dtypes: Literal["floating", "any"] = "floating"
    random: bool = True
    fills_local: bool = False
    check: Callable[[Any, tuple[int, ...]], str | None] | None = None

    @property
    def min_dim(self) -> int:
        """The fewest dimensions the weight may have (2 when the type needs fans)."""
        return max(self.dims[0], 2 if self.needs_fans else 0)


class InitializerRegistry:
    """Maps a ``type`` name to its config class and apply function; the union grows at run time.

    Used as ``Annotated`` metadata, it validates through a discriminated union of the classes registered
    *now*, so a type registered after this module was imported parses with no model rebuild.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[InitializerConfig]] = {}
        self._writers: dict[str, Writer | None] = {}
        self.version = 0  # bumped on every registration, so derived caches know when to rebuild
        self._adapter: TypeAdapter[Any] | None = None
        self._adapter_version = -1
        self._validate_one: Callable[[Any], Any] = _unbuilt
        self._validate_many: Callable[[Any], Any] = _unbuilt

    def add(self, cls: type[InitializerConfig], writer: Writer | None) -> None:
        """Register ``cls`` under its ``type`` literal; a name already taken is an error.

        ``writer`` may be ``None`` only for the built-ins, whose writers the torch half attaches on import.
        """
        name = type_name_of(cls)
        if name in self._classes:
            owner = self._classes[name].__qualname__
            msg = f'initializer type "{name}" is already registered by {owner}; choose another type name'
            raise ValueError(msg)
        self._classes[name] = cls
        self._writers[name] = writer
        self.version += 1

    def remove(self, name: str) -> None:
        """Forget a registered type (for tests and plugin reloads)."""
        del self._classes[name]
        del self._writers[name]
        self.version += 1

    @property
    def names(self) -> tuple[str, ...]:
        """The registered type names, in registration order."""
        return tuple(self._classes)

    def get(self, name: str) -> type[InitializerConfig] | None:
        """The config class registered as ``name``, or ``None``."""
        return self._classes.get(name)

    def writer(self, name: str) -> Writer | None:
        """The writer of type ``name`` (``None`` for Pretrained, which loads instead of writing)."""
        return self._writers.get(name)

    def attach_writer(self, name: str, writer: Writer) -> None:
        """Give a registered built-in its writer (called once by the torch half)."""
        if name not in self._classes:
            msg = f"cannot attach a writer to unregistered initializer type {name!r}"
            raise KeyError(msg)
        self._writers[name] = writer
        self.version += 1

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
        if self._adapter_version != self.version:
            self._refresh()
        result: tuple[InitializerConfig, ...] = self._validate_many(items)
        return result

    def _refresh(self) -> None:
        """Rebuild the union adapters if the registry changed since they were built."""
        if self._adapter is not None and self._adapter_version == self.version:
            return
        self._adapter = TypeAdapter(self.union)
        many: TypeAdapter[Any] = TypeAdapter(tuple[self.union, ...])  # type: ignore[name-defined]
        self._validate_one = self._adapter.validator.validate_python
        self._validate_many = many.validator.validate_python
        self._adapter_version = self.version

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        classes = self._classes

        def dispatch(value: Any) -> Any:
            if (
                type(value) is not dict
                and isinstance(value, InitializerConfig)
                and type(value) in classes.values()
            ):
                return value
            if self._adapter_version != self.version:
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
