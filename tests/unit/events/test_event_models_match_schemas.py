"""The pydantic models and the Avro schemas must describe the same records."""

from __future__ import annotations

import types
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import AwareDatetime, BaseModel
from pydantic_core import PydanticUndefined

from worker.events.models import EVENT_MODELS, FileArrived
from worker.events.schemas import load_schema

Shape = tuple[str, object, bool, object]
"""(field name, type description, optional, default) of one field."""

_PRIMITIVES: dict[str, object] = {"string": str, "long": int, "int": int, "boolean": bool}
_LOGICAL: dict[str, object] = {"timestamp-millis": datetime, "date": date}
_NO_DEFAULT = "<required>"


def avro_type(avro: Any) -> object:
    if isinstance(avro, str):
        return _PRIMITIVES[avro]
    if "logicalType" in avro:
        return _LOGICAL[avro["logicalType"]]
    if avro["type"] == "enum":
        return ("enum", tuple(avro["symbols"]))
    if avro["type"] == "array":
        return ("array", avro_type(avro["items"]))
    if avro["type"] == "record":
        return ("record", tuple(avro_fields(avro)))
    return _PRIMITIVES[avro["type"]]


def avro_fields(record: dict[str, Any]) -> list[Shape]:
    shapes = []
    for field in record["fields"]:
        declared = field["type"]
        optional = isinstance(declared, list)
        if optional:
            assert declared[0] == "null", field
            assert len(declared) == 2, field
            declared = declared[1]
        default = field.get("default", _NO_DEFAULT)
        shapes.append((field["name"], avro_type(declared), optional, default))
    return shapes


def python_type(annotation: object) -> object:
    if get_origin(annotation) is Annotated:
        return python_type(get_args(annotation)[0])
    if annotation is AwareDatetime:
        return datetime
    if get_origin(annotation) is Literal:
        return ("enum", get_args(annotation))
    if get_origin(annotation) is tuple:
        item, ellipsis = get_args(annotation)
        assert ellipsis is Ellipsis
        return ("array", python_type(item))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("record", tuple(model_fields(annotation)))
    return annotation


def model_fields(model: type[BaseModel]) -> list[Shape]:
    shapes = []
    for name, info in model.model_fields.items():
        annotation: object = info.annotation
        optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(
            annotation
        )
        if optional:
            (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        default = _NO_DEFAULT if info.default is PydanticUndefined else info.default
        if isinstance(default, tuple):
            default = list(default)  # a tuple field's () is an Avro array's []
        shapes.append((name, python_type(annotation), optional, default))
    return shapes


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_model_fields_match_avro_fields_in_name_type_optionality_default_and_order(
    event_type: str,
) -> None:
    assert model_fields(EVENT_MODELS[event_type]) == avro_fields(load_schema(event_type))


def test_the_comparison_notices_a_field_the_schema_lacks() -> None:
    class Drifted(FileArrived):
        checksum: str

    assert model_fields(Drifted) != avro_fields(load_schema("file-arrived"))


def test_the_comparison_notices_a_changed_optionality() -> None:
    schema = load_schema("file-arrived")
    size = next(field for field in schema["fields"] if field["name"] == "size")
    size["type"] = "long"
    del size["default"]
    assert model_fields(FileArrived) != avro_fields(schema)
