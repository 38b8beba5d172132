"""Typed reading of composed YAML nodes, so every error can name the file, line and key path."""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from consumers.policy.errors import PolicyError


class Node:
    """A YAML node plus the file and dotted key path that lead to it."""

    __slots__ = ("file", "node", "path")

    def __init__(self, file: str, node: yaml.Node, path: str) -> None:
        self.file = file
        self.node = node
        self.path = path

    @property
    def line(self) -> int:
        # PyYAML marks are 0-based; editors count from 1.
        return int(self.node.start_mark.line) + 1

    def error(self, problem: str) -> PolicyError:
        return PolicyError(self.file, self.line, self.path, problem)

    def child(self, node: yaml.Node, key: str) -> Node:
        return Node(self.file, node, f"{self.path}.{key}" if self.path else key)

    def mapping(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Node]:
        """The mapping's values by key; unknown, duplicate and missing keys are errors."""
        items = self.items()
        allowed = set(required) | set(optional)
        for key, value in items.items():
            if key not in allowed:
                raise value.error(f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in items:
                raise self.error(f"missing required key {key!r}")
        return items

    def items(self) -> dict[str, Node]:
        """Any-keyed mapping (ids chosen by the policy author); keys must be unique strings."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"expected a mapping, found {_kind(self.node)}")
        out: dict[str, Node] = {}
        for key_node, value_node in self.node.value:
            if not isinstance(key_node, yaml.ScalarNode) or not key_node.value:
                raise Node(self.file, key_node, self.path).error("keys must be non-empty strings")
            key = str(key_node.value)
            if key in out:
                raise Node(self.file, key_node, self.path).error(f"duplicate key {key!r}")
            out[key] = self.child(value_node, key)
        return out

    def sequence(self) -> Iterator[Node]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"expected a list, found {_kind(self.node)}")
        for index, item in enumerate(self.node.value):
            yield Node(self.file, item, f"{self.path}[{index}]")

    def text(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode) or self.node.tag != "tag:yaml.org,2002:str":
            raise self.error(f"expected text, found {_kind(self.node)}")
        value = str(self.node.value).strip()
        if not value:
            raise self.error("must not be empty")
        return value

    def integer(self, minimum: int) -> int:
        if not isinstance(self.node, yaml.ScalarNode) or self.node.tag != "tag:yaml.org,2002:int":
            raise self.error(f"expected a whole number, found {_kind(self.node)}")
        value = int(str(self.node.value).replace("_", ""))
        if value < minimum:
            raise self.error(f"must be at least {minimum}, found {value}")
        return value

    def choice(self, allowed: tuple[str, ...]) -> str:
        value = self.text()
        if value not in allowed:
            raise self.error(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def texts(self) -> list[str]:
        """A non-empty list of unique strings."""
        values: list[str] = []
        for item in self.sequence():
            value = item.text()
            if value in values:
                raise item.error(f"{value!r} is listed twice")
            values.append(value)
        if not values:
            raise self.error("must list at least one entry")
        return values


def compose_file(path: str, display: str) -> Node:
    """Parse a YAML file into nodes; syntax errors keep their line."""
    try:
        with open(path, encoding="utf-8") as handle:
            root = yaml.compose(handle, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise PolicyError(display, None, "", f"cannot read: {exc.strerror}") from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise PolicyError(display, line, "", f"not valid YAML: {exc.problem}") from exc
    if root is None:
        raise PolicyError(display, None, "", "the file is empty")
    return Node(display, root, "")


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.tag.rsplit(':', 1)[-1]} {node.value!r}"
