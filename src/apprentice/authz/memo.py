"""When a decision may be remembered: :func:`memo_blockers` reads the policies and says why
(if at all) a decision could depend on more than its :func:`memo_key`.

The key is what the shipped policies look at: the principal's type, the action, the
resource's type, the purpose, whether the principal has a contributor and the resource an
owner, and whether those two are the same contributor. Two requests with the same key get
the same Cedar decision from policies that only (a) constrain principal and resource by type
(``is``, or no constraint), never by entity id or hierarchy; (b) compare ``context.purpose``
with literals; (c) test ``has`` on principal or resource; (d) compare ``resource.owner``
with ``principal.contributor``; (e) test types with ``is``; combined with ``&&``, ``||``,
``!``, ``if``. Anything else (an entity literal, ``in``, ``like``, another attribute, a
comparison of an owner with a literal, …) blocks remembering, so a deployment that writes
such policies gets every request evaluated by Cedar. Requests with more context than the
purpose are never remembered.
"""

from __future__ import annotations

from cedarpy import pst

from apprentice.authz.model import Principal, Resource

MemoKey = tuple[str, str, str, str, bool, bool, bool]

_PRINCIPAL_ATTR = "contributor"
_RESOURCE_ATTR = "owner"


def memo_key(principal: Principal, action: str, resource: Resource, purpose: str) -> MemoKey:
    """What a remembered decision is filed under (see the module docstring)."""
    same = principal.contributor is not None and principal.contributor == resource.owner
    return (principal.type, action, resource.type, purpose, principal.contributor is not None,
            resource.owner is not None, same)


def memo_blockers(tree: pst.PolicySet) -> list[str]:
    """Why decisions under these policies may not be remembered (empty: they may)."""
    problems: list[str] = []
    if tree.templates or tree.template_links:
        problems.append("policy templates")
    for key, policy in tree.static_policies.items():
        name = str(policy.annotations.get("id", key))
        for scope in (policy.principal, policy.resource):
            if not isinstance(scope, pst.ScopeAny | pst.ScopeIs):
                problems.append(f"{name}: scope names an entity ({type(scope).__name__})")
        for clause in policy.clauses:
            problems.extend(f"{name}: {why}" for why in _condition(clause.expr))
    return problems


def _var(node: object, name: str) -> bool:
    return isinstance(node, pst.Var) and node.name == name


def _attr(node: object, var: str, attr: str) -> bool:
    return isinstance(node, pst.GetAttr) and _var(node.base, var) and node.attr == attr


def _condition(node: object) -> list[str]:
    """Problems in a boolean expression (empty when it depends on the key only)."""
    if isinstance(node, pst.BoolLit):
        return []
    if isinstance(node, pst.BinaryOp) and node.op in ("and", "or"):
        return _condition(node.left) + _condition(node.right)
    if isinstance(node, pst.UnaryOp) and node.op == "not":
        return _condition(node.arg)
    if isinstance(node, pst.IfThenElse):
        return _condition(node.cond) + _condition(node.then_expr) + _condition(node.else_expr)
    if isinstance(node, pst.HasAttr):
        if (_var(node.base, "principal") or _var(node.base, "resource")) and len(node.attrs) == 1:
            return []
        return ["`has` on something other than principal or resource"]
    if isinstance(node, pst.Is):
        if (_var(node.base, "principal") or _var(node.base, "resource")) and node.in_expr is None:
            return []
        return ["`is` on something other than principal or resource, or with `in`"]
    if isinstance(node, pst.BinaryOp) and node.op in ("eq", "not_eq"):
        sides = (node.left, node.right)
        purpose = any(_attr(s, "context", "purpose") for s in sides)
        literal = any(isinstance(s, pst.StringLit) for s in sides)
        if purpose and literal:
            return []
        owner = any(_attr(s, "resource", _RESOURCE_ATTR) for s in sides)
        contributor = any(_attr(s, "principal", _PRINCIPAL_ATTR) for s in sides)
        if owner and contributor:
            return []
        return ["a comparison other than purpose with a literal or owner with contributor"]
    return [f"a {type(node).__name__} expression"]
