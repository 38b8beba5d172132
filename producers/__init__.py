"""What applications import: the access-audit SDK, the `emit` command, and the workload simulator."""

from producers.pseudonym import SubjectPseudonymiser
from producers.sdk import AccessAuditor, DeliveryError

__all__ = ["AccessAuditor", "DeliveryError", "SubjectPseudonymiser"]
