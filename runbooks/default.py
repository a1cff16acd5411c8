"""The default ladder: first-line support -> team lead -> specialist team -> management."""

from workflows.models import Incident, Severity
from workflows.runbook import PlanSpec, Runbook, TierSpec, by_severity

SEV1, SEV2, SEV3, SEV4 = Severity

# Minutes each tier waits for an acknowledgement, by severity.
ACK_MINUTES = {
    "first-line": {SEV1: 5, SEV2: 10, SEV3: 30, SEV4: 120},
    "team-lead": {SEV1: 10, SEV2: 15, SEV3: 45, SEV4: 240},
    "specialists": {SEV1: 15, SEV2: 20, SEV3: 60, SEV4: 480},
    "management": {SEV1: 15, SEV2: 30, SEV3: 120, SEV4: 1440},
}

# The specialist team that owns a service; everything else goes to platform.
SPECIALISTS = {"database": "team:dba", "payments": "team:payments"}


class DefaultRunbook(Runbook):
    name = "default"
    description = "Four-tier ladder with severity-dependent timeouts; SEV1/SEV2 go round twice."
    sample_services = ("example", *SPECIALISTS)

    def plan(self, incident: Incident) -> PlanSpec:
        sev = incident.severity
        specialists = SPECIALISTS.get(incident.service, "team:platform")
        targets = {
            "first-line": ("team:support",),
            "team-lead": ("team:leads",),
            "specialists": (specialists,),
            "management": ("team:management",),
        }
        return PlanSpec(
            tiers=[
                TierSpec(name, targets[name], by_severity(ACK_MINUTES[name], sev)) for name in ACK_MINUTES
            ],
            repeat=1 if sev in (SEV1, SEV2) else 0,
            management=("team:management",),
        )
