"""Which findings an event explains (pure): the finding on the entity the event changed,
the cross-account edges into or out of it, and, for an organization's event (Identity
Center, Organizations), the findings of what that service decides.

>>> from iamdrift.compare.findings import Place, finding
>>> f = finding(Place("222222222222", "role", "Audit", "Account"), "trust_policy",
...             "changed", "critical", "trusts more")
>>> fact = EventFact(actor="arn:aws:iam::222222222222:user/mallory", event="UpdateAssumeRolePolicy",
...                  source="iam.amazonaws.com", time="t", account="222222222222",
...                  resource="role/Audit")
>>> [e.actor for e in explain([f], [fact])[0].events]
['arn:aws:iam::222222222222:user/mallory']
"""

from __future__ import annotations

from iamdrift.changes.events import EventFact
from iamdrift.compare.findings import Finding

# The kinds of finding each organization-level service decides.
_DECIDES = {
    "sso.amazonaws.com": {"permission_set", "assignment", "sso_group", "access"},
    "identitystore.amazonaws.com": {"sso_group", "assignment", "access"},
    "organizations.amazonaws.com": {"account", "scp", "access", "reach"},
}


def explains(fact: EventFact, f: Finding) -> bool:
    if fact.source in _DECIDES:
        return f.resource_type in _DECIDES[fact.source]
    if fact.resource is None:  # an IAM call naming no entity: the account's entities
        return f.account == fact.account and f.resource_type in ("user", "group", "role", "policy")
    kind, name = fact.resource.split("/", 1)
    if f.account == fact.account and (f.resource_type, f.resource) == (kind, name):
        return True
    if f.resource_type == "access":  # PRINCIPAL->ACCOUNT:ROLE
        source, _, target = f.resource.partition("->")
        if kind == "role" and target == f"{fact.account}:{name}":
            return True
        # The edge's principal as its id names it (access/edge.py's node_label).
        return kind in ("user", "role") and source == f"{fact.account}:{kind}:{name}"
    return False


def explain(findings: list[Finding], facts: list[EventFact]) -> list[Finding]:
    """The findings, each with the events that explain it (copies; the others as they are)."""
    if not facts:
        return findings
    out = []
    for f in findings:
        mine = [e for e in facts if explains(e, f)]
        out.append(f.model_copy(update={"events": mine}) if mine else f)
    return out
