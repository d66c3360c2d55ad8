"""A query plan as a tree of nested lists, each node collapsible, with the raw plan one click away.

PostgreSQL nodes show their type, relation, index, estimated and actual rows, cost, time and conditions;
SQLite's rows hang under their parents; MySQL's and MariaDB's JSON, and any other plan, become a tree of
their objects, each showing its plain values. A plan that is text stays preformatted. Nothing here needs a
script: ``<details>`` opens and closes by itself.
"""

from __future__ import annotations

import json
from typing import Any

from ._html_markup import esc

#: Past this many nodes the tree stops; the raw plan below it still has everything.
MAX_NODES = 300

# title, facts (markup), children
Node = tuple[str, list[str], list["Node"]]

_PG_TEXT = (
    "Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter", "Sort Key",
    "Group Key", "Sort Method", "Rows Removed by Filter", "Strategy",
)  # fmt: skip
_JSON_NAMES = {
    "access_type": "access",
    "key": "index",
    "rows_examined_per_scan": "est. rows",
    "rows": "est. rows",
    "r_rows": "actual rows",
    "rows_produced_per_join": "rows produced",
    "filtered": "filtered %",
    "r_filtered": "actual filtered %",
    "attached_condition": "filter",
    "r_total_time_ms": "ms",
}


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_NODES

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def plan_html(plan: Any) -> str:
    """The plan as a tree, then its raw JSON in a closed ``<details>``; a text plan as it is."""
    if isinstance(plan, str):
        return f"<pre class='plan-text'>{esc(plan)}</pre>"
    budget = _Budget()
    roots = _read(plan, budget)
    tree = ""
    if roots:
        more = "<li><div class='leaf muted'>more nodes: see the raw plan</div></li>" * (budget.left < 0)
        tree = f"<ul class='plan'>{''.join(_item(node) for node in roots)}{more}</ul>"
    raw = json.dumps(plan, indent=2, ensure_ascii=False)
    return f"{tree}<details class='raw'><summary>Raw plan (JSON)</summary><pre>{esc(raw)}</pre></details>"


def _item(node: Node) -> str:
    title, facts, children = node
    head = f"<span class='node-title'>{esc(title)}</span>"
    if facts:
        head += f" <span class='node-facts'>{' &middot; '.join(facts)}</span>"
    if not children:
        return f"<li><div class='leaf'>{head}</div></li>"
    inner = "".join(map(_item, children))
    return f"<li><details open><summary>{head}</summary><ul>{inner}</ul></details></li>"


def _read(plan: Any, budget: _Budget) -> list[Node]:
    if isinstance(plan, list) and plan and all(isinstance(row, dict) and "detail" in row for row in plan):
        return _sqlite(plan, budget)
    if isinstance(plan, list):
        return [node for item in plan for node in _read(item, budget)]
    if not isinstance(plan, dict):
        return []
    if isinstance(plan.get("Plan"), dict):
        root = _pg(plan["Plan"], budget)
        times = [f"{name.lower()} {plan[name]:g} ms" for name in ("Planning Time", "Execution Time")
                 if _number(plan.get(name))]  # fmt: skip
        return [(root[0], root[1] + times, root[2])]
    if "Node Type" in plan:
        return [_pg(plan, budget)]
    if "detail" in plan:
        return [(str(plan["detail"]), [], [])]
    return [_json("plan", plan, budget)]


def _pg(node: dict[str, Any], budget: _Budget) -> Node:
    budget.take()
    title = str(node.get("Node Type") or "?")
    relation, alias = node.get("Relation Name"), node.get("Alias")
    if relation:
        title += f" on {relation}" + (f" {alias}" if alias and alias != relation else "")
    if node.get("Index Name"):
        title += f" using {node['Index Name']}"
    facts = []
    if _number(node.get("Plan Rows")):
        facts.append(f"est. {node['Plan Rows']:g} rows")
    if _number(node.get("Actual Rows")):
        loops = node.get("Actual Loops")
        per = f" &times; {loops:g} loops" if _number(loops) and loops != 1 else ""
        facts.append(f"actual {node['Actual Rows']:g} rows{per}")
    if _number(node.get("Total Cost")):
        start = f"{node['Startup Cost']:g}.." if _number(node.get("Startup Cost")) else ""
        facts.append(f"cost {start}{node['Total Cost']:g}")
    if _number(node.get("Actual Total Time")):
        facts.append(f"{node['Actual Total Time']:g} ms")
    facts += [_fact(key.lower(), node[key]) for key in _PG_TEXT if node.get(key) not in (None, "", [])]
    children = [child for child in node.get("Plans") or () if isinstance(child, dict)]
    return title, facts, [_pg(child, budget) for child in children if budget.left > 0]


def _sqlite(rows: list[dict[str, Any]], budget: _Budget) -> list[Node]:
    ids = {row.get("id") for row in rows}
    kids: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        kids.setdefault(row.get("parent") if row.get("parent") in ids else None, []).append(row)

    def node(row: dict[str, Any], depth: int) -> Node:
        budget.take()
        below = kids.get(row.get("id"), []) if depth < 40 and row.get("id") is not None else []
        return str(row["detail"]), [], [node(kid, depth + 1) for kid in below if budget.left > 0]

    return [node(row, 0) for row in kids.get(None, []) if budget.left > 0]


def _json(name: str, value: Any, budget: _Budget) -> Node:
    """A node of a JSON plan: its plain values as facts, its objects and lists as children."""
    budget.take()
    if isinstance(value, list):
        items = [_json(*_named(name, item), budget) for item in value if budget.left > 0 and _nested(item)]
        plain = [item for item in value if not _nested(item)]
        return name, [_fact("values", ", ".join(map(str, plain)))] if plain else [], items
    title = f"{name} {value['table_name']}" if isinstance(value.get("table_name"), str) else name
    facts, children = [], []
    for key, item in value.items():
        if key == "table_name":
            continue
        if not _nested(item):
            facts.append(_fact(_JSON_NAMES.get(key, key), item))
        elif isinstance(item, dict) and item and len(item) <= 6 and not any(map(_nested, item.values())):
            facts.append(_fact(key, ", ".join(f"{k} {v}" for k, v in item.items())))
        elif budget.left > 0:
            children.append(_json(key, item, budget))
    return title, facts, children


def _named(name: str, item: Any) -> tuple[str, Any]:
    # {"table": {...}} in a list (MySQL's nested_loop): the object is the table, not a wrapper of it.
    if isinstance(item, dict) and len(item) == 1:
        key, inner = next(iter(item.items()))
        if isinstance(inner, dict):
            return str(key), inner
    return name, item


def _fact(name: str, value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{esc(name)} <code>{esc(text)}</code>"


def _nested(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
