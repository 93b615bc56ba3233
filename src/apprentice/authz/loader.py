"""Loading the Cedar policies, and refusing ones that must not be used.

A folder holds ``schema.cedarschema`` and any number of ``*.cedar`` files. Loading fails with
:class:`~apprentice.errors.PolicyLoadError` (every problem, each naming file and policy) when
a file does not parse, a policy does not validate against the schema, or a ``permit`` is
broader than a default-deny model allows: every permit must name one principal type
(``principal is X`` or ``principal == X::"id"``), its actions and one resource type, and must
depend on ``context.purpose``. Forbids may be as broad as they like: they only take away.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import cedarpy
from cedarpy import pst

from apprentice.errors import PolicyLoadError

POLICY_FOLDER = Path(__file__).with_name("policies")
SCHEMA_FILE = "schema.cedarschema"


@dataclass(frozen=True)
class PolicyBundle:
    """Parsed, validated policies ready to evaluate: ``text`` is all files in name order."""

    folder: Path
    text: str
    policies: cedarpy.PolicySet
    schema: cedarpy.Schema
    files: tuple[str, ...]


def policy_problems(folder: Path | None = None) -> list[str]:
    """Every reason the policies in ``folder`` (default: the shipped ones) must not be used;
    empty when they are fine. For the exposure guard: one line per problem."""
    try:
        _load(folder or POLICY_FOLDER)
    except PolicyLoadError as exc:
        return list(exc.problems)
    return []


def load_policies(folder: Path | None = None) -> PolicyBundle:
    """Parse and check the policies in ``folder`` (default: the shipped ones); raise
    PolicyLoadError listing every problem."""
    return _load(folder or POLICY_FOLDER)


def _load(folder: Path) -> PolicyBundle:
    problems: list[str] = []
    schema_path = folder / SCHEMA_FILE
    files = sorted(folder.glob("*.cedar")) if folder.is_dir() else []
    if not schema_path.is_file():
        raise PolicyLoadError([f"{schema_path}: schema file missing"])
    if not files:
        raise PolicyLoadError([f"{folder}: no *.cedar policy files (nothing would ever be allowed)"])
    try:
        schema_text = schema_path.read_text(encoding="utf-8")
        schema = cedarpy.Schema.from_str(schema_text)
    except (ValueError, OSError) as exc:
        raise PolicyLoadError([f"{schema_path}: {_first_line(exc)}"]) from None
    texts: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            tree = cedarpy.policies_to_pst(text)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: does not parse: {_first_line(exc)}")
            continue
        problems.extend(_breadth_problems(path.name, tree))
        result = cedarpy.validate_policies(text, schema)
        problems.extend(f"{path.name}: {e}" for e in result.errors)
        texts.append(text)
    if problems:
        raise PolicyLoadError(problems)
    text = "\n".join(texts)
    return PolicyBundle(folder, text, cedarpy.PolicySet.from_str(text), schema,
                        tuple(p.name for p in files))


def _breadth_problems(file: str, tree: pst.PolicySet) -> list[str]:
    problems: list[str] = []
    if tree.templates or tree.template_links:
        problems.append(f"{file}: policy templates are not used here; write static policies")
    for key, policy in tree.static_policies.items():
        if policy.effect != "permit":
            continue
        name = f"{file}: permit {policy.annotations.get('id', key)!r}"
        if not isinstance(policy.principal, pst.ScopeIs | pst.ScopeEq | pst.ScopeIsIn):
            problems.append(f"{name} applies to every principal; name one with `principal is Apprentice::X`")
        if isinstance(policy.action, pst.ScopeAny):
            problems.append(f"{name} applies to every action; name them with `action in [...]`")
        if not isinstance(policy.resource, pst.ScopeIs | pst.ScopeEq | pst.ScopeIsIn):
            problems.append(f"{name} applies to every resource; name one with `resource is Apprentice::X`")
        if not any(_mentions_purpose(clause) for clause in policy.clauses):
            problems.append(f"{name} is not purpose-bound; add `when {{ context.purpose == \"...\" }}`")
    return problems


def _mentions_purpose(node: object) -> bool:
    if isinstance(node, pst.GetAttr) and node.attr == "purpose" and isinstance(node.base, pst.Var) \
            and node.base.name == "context":
        return True
    if dataclasses.is_dataclass(node):
        return any(_mentions_purpose(getattr(node, f.name)) for f in dataclasses.fields(node))
    if isinstance(node, tuple | list):
        return any(_mentions_purpose(item) for item in node)
    if isinstance(node, dict):
        return any(_mentions_purpose(item) for item in node.values())
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
