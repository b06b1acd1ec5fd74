"""The OpenAPI document: every component name stands for one schema, every integer a client sends
is bounded to what the databases hold."""

from __future__ import annotations

from typing import Any

from ninja.openapi.schema import OpenAPISchema

from palabre.api import api
from palabre.storable import MAX_ROW_ID


class CollisionRecorder(OpenAPISchema):
    """Ninja's document builder, noting each definition it files under a name: ninja keeps the last
    one silently when two differ."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.definitions: dict[str, list[dict]] = {}
        super().__init__(*args, **kwargs)

    def add_schema_definitions(self, definitions: dict) -> None:
        for name, definition in definitions.items():
            seen = self.definitions.setdefault(name, [])
            if definition not in seen:
                seen.append(definition)
        super().add_schema_definitions(definitions)


def test_no_two_schemas_share_a_component_name():
    recorder = CollisionRecorder(api, "api/")
    collisions = {
        name: [
            d.get("title", "") + ": " + ", ".join(sorted(d.get("properties", d.get("enum", []))))
            for d in defs
        ]
        for name, defs in recorder.definitions.items()
        if len(defs) > 1
    }
    assert collisions == {}


def _integers(node: Any, where: str):
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integers(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _integers(value, f"{where}[{index}]")


def test_every_integer_a_client_sends_is_bounded_to_64_bits():
    schema = api.get_openapi_schema()
    inputs: list[tuple[str, Any]] = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                inputs.append((f"{method} {path} {parameter['name']}", parameter["schema"]))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                inputs.append((f"{method} {path} body", media["schema"]))
    # Request bodies point at components: follow them (a component is only checked once).
    components = schema["components"]["schemas"]
    seen: set[str] = set()
    queue = list(inputs)
    unbounded = []
    while queue:
        where, node = queue.pop()
        for ref_where, ref in _refs(node, where):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                queue.append((f"{ref_where} -> {name}", components[name]))
        for place, integer in _integers(node, where):
            if not (integer.get("minimum", -1) >= 0 and integer.get("maximum", MAX_ROW_ID + 1) <= MAX_ROW_ID):
                unbounded.append(place)
    assert inputs and unbounded == []


def _refs(node: Any, where: str):
    if isinstance(node, dict):
        if "$ref" in node:
            yield where, node["$ref"]
        for key, value in node.items():
            yield from _refs(value, f"{where}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value, where)
