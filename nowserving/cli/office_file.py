"""`nowserving export`: the office the hub holds, written back into its TOML file.

The file is an import/export format for IT people: the hub imports it when it changed,
and `export` writes the hub's office (with the changes made on the admin page) into it,
keeping the file's comments and layout wherever the values allow (tomlkit). Lines,
counters and staff are matched by id. Device secrets are never written: the hub keeps
only their hashes, and devices pair with a code.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from nowserving.domain.config import OfficeConfig


def export_text(config: OfficeConfig, existing: str | None = None) -> str:
    """The TOML text of `config`, merged into the `existing` text when there is one.

    Keys the file has keep their place and comments (a default written out stays); keys
    it lacks are added only when they differ from the default.
    """
    full = config.model_dump(mode="json", exclude={"devices"})
    lean = config.model_dump(mode="json", exclude_defaults=True, exclude={"devices"})
    document = tomlkit.parse(existing) if existing else tomlkit.document()
    if existing is None:
        document.add(tomlkit.comment("Written by `nowserving export`. Every key: docs/config.md"))
    _merge(document, full, lean)
    # A file from before pairing: its [[devices]] secrets now live (hashed) in the hub.
    document.pop("devices", None)
    return tomlkit.dumps(document)


def _merge(target: Any, full: dict[str, Any], lean: dict[str, Any]) -> None:
    """Set the values into a tomlkit table in place: kept keys keep their comments."""
    for key in [key for key in target if key not in full]:
        del target[key]
    for key, value in full.items():
        current = target.get(key)
        if current is None:
            if key in lean:  # a whole section, [hub], stays a section
                top = isinstance(target, TOMLDocument) and isinstance(lean[key], dict)
                target[key] = _table(lean[key]) if top else _item(lean[key])
        elif isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value, lean.get(key, {}))
        elif isinstance(current, AoT) and isinstance(value, list):
            _merge_by_id(current, value, lean.get(key, []))
        elif current != value:
            target[key] = _item(value)


def _merge_by_id(current: AoT, full: list[dict[str, Any]], lean: list[dict[str, Any]]) -> None:
    """Tables matched by `id`, updated in place; gone ones removed; new ones appended."""
    wanted = {str(row["id"]): (row, slim) for row, slim in zip(full, lean, strict=True)}
    for n in reversed(range(len(current))):
        if str(current[n].get("id")) not in wanted:
            del current[n]
    known = {str(table.get("id")) for table in current}
    for table in current:
        row, slim = wanted[str(table.get("id"))]
        _merge(table, row, slim)
    for key, (_, slim) in wanted.items():
        if key not in known:
            table = _table(slim)
            table.add(tomlkit.nl())
            current.append(table)


def _item(value: Any) -> Any:
    """A TOML item for a new value: tables of plain values inline (`name = { en = … }`)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        tables = tomlkit.aot()
        for row in value:
            tables.append(_table(row))
        return tables
    if isinstance(value, dict):
        if any(isinstance(v, dict) for v in value.values()):
            return _table(value)
        inline = tomlkit.inline_table()
        inline.update(value)
        return inline
    return value


def _table(row: dict[str, Any]) -> Table:
    table = tomlkit.table()
    for key, value in row.items():
        table[key] = _item(value)
    return table
