"""Privacy-policy evaluation for access events: policies as data, rules KP001–KP011, no I/O beyond files."""

from consumers.policy.compiled import CompiledPolicy, PolicySet, is_business_hours, load_policies
from consumers.policy.decision import ALLOW, Decision, RuleHit
from consumers.policy.engine import PolicyEngine
from consumers.policy.errors import PolicyError
from consumers.policy.provision import ProvisionRecord, provision_record
from consumers.policy.requests import NO_RESTRICTIONS, RestrictionSource, SubjectRequestBook

__all__ = [
    "ALLOW",
    "NO_RESTRICTIONS",
    "CompiledPolicy",
    "Decision",
    "PolicyEngine",
    "PolicyError",
    "PolicySet",
    "ProvisionRecord",
    "RestrictionSource",
    "RuleHit",
    "SubjectRequestBook",
    "is_business_hours",
    "load_policies",
    "provision_record",
]
