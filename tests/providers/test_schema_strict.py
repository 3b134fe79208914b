"""pydantic_to_response_format: schemas that OpenAI's strict mode accepts, at every level."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Generic, Literal, Optional, TypeVar

import pytest
from pydantic import BaseModel, Field

from ecs_agent.providers.openai_provider import pydantic_to_response_format

T = TypeVar("T")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    name: str = Field(title="Item name")
    qty: int = 1


class Address(BaseModel):
    city: str
    zip: str | None = None


class Customer(BaseModel):
    name: str
    address: Address = Field(description="where to ship")


class Order(BaseModel):
    """An order."""

    items: list[Item]
    customer: Customer
    color: Color
    note: Optional[str] = None  # noqa: UP045 - the spelling users write
    priority: Literal["low", "high"] = "low"
    backup: Address | None = None


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []
    parent: TreeNode | None = Field(default=None, description="the parent node")


def walk(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every schema object in ``node`` with its path."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        out.append((path, node))
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                for name, sub in value.items():
                    out.extend(walk(sub, f"{path}/{key}/{name}"))
            elif key in ("items",):
                out.extend(walk(value, f"{path}/{key}"))
            elif key in ("anyOf", "allOf", "oneOf", "prefixItems") and isinstance(value, list):
                for i, sub in enumerate(value):
                    out.extend(walk(sub, f"{path}/{key}/{i}"))
    return out


def assert_strict(schema: dict[str, Any]) -> None:
    assert schema["type"] == "object", "the root must be an object"
    for path, node in walk(schema):
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, path
            assert node["required"] == list(node["properties"]), path
        assert "default" not in node, path
        assert "title" not in node, path
        assert "oneOf" not in node, path
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"{path}: $ref with siblings {set(node)}"
            ref = node["$ref"]
            assert ref.startswith("#/$defs/") and ref[8:] in schema["$defs"], path


def test_envelope_name_and_strict_flag() -> None:
    rf = pydantic_to_response_format(Order)
    assert rf["type"] == "json_schema"
    assert set(rf["json_schema"]) == {"name", "schema", "strict"}
    assert rf["json_schema"]["name"] == "Order"
    assert rf["json_schema"]["strict"] is True


def test_nested_models_lists_optionals_and_enums_are_strict_everywhere() -> None:
    schema = pydantic_to_response_format(Order)["json_schema"]["schema"]
    assert_strict(schema)
    props = schema["properties"]
    assert schema["required"] == ["items", "customer", "color", "note", "priority", "backup"]
    # optional fields stay required but accept null
    assert {"type": "null"} in props["note"]["anyOf"]
    assert {"type": "null"} in props["backup"]["anyOf"]
    # lists of models point to a strict definition
    assert props["items"]["type"] == "array"
    item_def = schema["$defs"]["Item"]
    assert item_def["required"] == ["name", "qty"]
    assert item_def["additionalProperties"] is False
    # an enum keeps its values
    assert schema["$defs"]["Color"]["enum"] == ["red", "blue"]
    assert props["priority"]["enum"] == ["low", "high"]
    # a field description next to a $ref is kept, the referenced model inlined strictly
    address = schema["$defs"]["Customer"]["properties"]["address"]
    assert address["description"] == "where to ship"
    assert address["required"] == ["city", "zip"]
    assert {"type": "null"} in address["properties"]["zip"]["anyOf"]


def test_recursive_models_keep_their_refs() -> None:
    schema = pydantic_to_response_format(TreeNode)["json_schema"]["schema"]
    assert_strict(schema)
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/TreeNode"}


def test_the_input_schema_is_not_modified() -> None:
    before = Order.model_json_schema()
    pydantic_to_response_format(Order)
    assert Order.model_json_schema() == before


def test_a_valid_instance_validates_against_a_schema_that_reflects_the_model() -> None:
    # the strict schema still describes the same data: an instance dumped in JSON mode
    # has exactly the keys the schema requires, at every object level
    order = Order(items=[Item(name="a")], customer=Customer(name="c", address=Address(city="x")),
                  color=Color.RED)
    dumped = order.model_dump(mode="json")
    schema = pydantic_to_response_format(Order)["json_schema"]["schema"]
    assert list(dumped) == schema["required"]
    assert list(dumped["customer"]["address"]) == \
        schema["$defs"]["Customer"]["properties"]["address"]["required"]


def test_generic_model_names_are_made_api_safe() -> None:
    class Page(BaseModel, Generic[T]):
        rows: list[T]

    rf = pydantic_to_response_format(Page[Item])
    assert rf["json_schema"]["name"] == "Page_Item_"
    assert pydantic_to_response_format(Item, name="my item!")["json_schema"]["name"] == "my_item_"


def test_dict_fields_cannot_be_strict_and_say_where() -> None:
    class Bag(BaseModel):
        counts: dict[str, int]

    with pytest.raises(ValueError, match=r"#/properties/counts allows free keys"):
        pydantic_to_response_format(Bag)


def test_non_models_are_rejected() -> None:
    with pytest.raises(TypeError, match="pydantic BaseModel subclass"):
        pydantic_to_response_format(dict)  # type: ignore[arg-type]


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Pets(BaseModel):
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    others: list[Annotated[Cat | Dog, Field(discriminator="kind")]]


def test_discriminated_unions_become_any_of_without_discriminator() -> None:
    schema = pydantic_to_response_format(Pets)["json_schema"]["schema"]
    assert_strict(schema)
    assert schema["properties"]["pet"] == {
        "anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]}
    assert schema["$defs"]["Dog"]["required"] == ["kind", "good"]
    assert schema["$defs"]["Dog"]["properties"]["kind"] == {"const": "dog", "type": "string"}
