"""The default ladder: first-line support -> team lead -> specialist team -> management."""

from workflows.models import Incident, OnEmpty, Severity
from workflows.runbook import PlanSpec, Runbook, TierSpec, by_severity

SEV1, SEV2, SEV3, SEV4 = Severity

# Minutes each tier waits for an acknowledgement, by severity.
ACK_MINUTES = {
    "first-line": {SEV1: 5, SEV2: 10, SEV3: 30, SEV4: 120},
    "team-lead": {SEV1: 10, SEV2: 15, SEV3: 45, SEV4: 240},
    "specialists": {SEV1: 15, SEV2: 20, SEV3: 60, SEV4: 480},
    "management": {SEV1: 15, SEV2: 30, SEV3: 120, SEV4: 1440},
}

# Who is on call for the specialists of a service (a schedule), and the team paged when
# nobody is; everything else goes to platform.
SPECIALISTS = {
    "database": ("team:dba", "team:dba"),
    "payments": ("schedule:payments", "team:payments"),
}
PLATFORM = ("schedule:platform", "team:platform")


class DefaultRunbook(Runbook):
    name = "default"
    description = "Four-tier ladder with severity-dependent timeouts; SEV1/SEV2 go round twice."
    sample_services = ("example", *SPECIALISTS)

    def plan(self, incident: Incident) -> PlanSpec:
        sev = incident.severity
        specialists, their_team = SPECIALISTS.get(incident.service, PLATFORM)
        targets = {
            "first-line": ("team:support",),
            "team-lead": ("team:leads",),
            "specialists": (specialists,),
            "management": ("team:management",),
        }
        return PlanSpec(
            tiers=[
                TierSpec(
                    name,
                    targets[name],
                    by_severity(ACK_MINUTES[name], sev),
                    # nobody on the specialists' schedule: their whole team
                    on_empty=OnEmpty.FALLBACK if name == "specialists" else OnEmpty.SKIP,
                    fallback=(their_team,) if name == "specialists" else (),
                )
                for name in ACK_MINUTES
            ],
            repeat=1 if sev in (SEV1, SEV2) else 0,
            management=("team:management",),
            last_resort=("team:management",),
        )
