"""Everything about alerts after a decision says "alert": fold, publish, deliver to Alertmanager."""

from consumers.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailableError, to_alertmanager
from consumers.alerts.appi import classify
from consumers.alerts.delivery import AlertDelivery, DeliverySettings
from consumers.alerts.fingerprint import alert_fingerprint, episode_id
from consumers.alerts.folding import AlertFolder
from consumers.alerts.model import (
    Alert,
    AppiCase,
    AppiIncident,
    Kind,
    LocalizedText,
    Sensitivity,
    Severity,
    Status,
    to_row,
)
from consumers.alerts.publisher import AlertPublisher, AlertPublishError
from consumers.alerts.raising import new_alert

__all__ = [
    "Alert", "AlertDelivery", "AlertFolder", "AlertPublishError", "AlertPublisher", "AlertmanagerClient",
    "AlertmanagerUnavailableError", "AppiCase", "AppiIncident", "DeliverySettings", "Kind", "LocalizedText",
    "Sensitivity", "Severity", "Status", "alert_fingerprint", "classify", "episode_id", "new_alert",
    "to_alertmanager", "to_row",
]
