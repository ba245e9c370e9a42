"""Whether any trail logs an account's management events in a region: without one, IAM Warden sees nothing there.

EventBridge receives ``AWS API Call via CloudTrail`` events only while a trail with logging enabled records them
("To record events with a detail-type value of AWS API Call via CloudTrail, a CloudTrail trail with logging enabled
is required", EventBridge user guide, CloudTrail events). A ``StopLogging`` or ``DeleteTrail`` whose own event is
lost (delivery is best effort, or it comes while routing is being cut) would leave that account and region unjudged
for good, and no other check would notice (review s8 section 7). So the heartbeat reads the trails each run.

Read-only: ``DescribeTrails`` (shadow trails included: a multi-region trail homed elsewhere and the organization's
trail log this region too), ``GetTrailStatus`` and ``GetEventSelectors``, each by the trail's ARN (required for a
shadow trail, and for an organization trail read from a member account).
"""

from collections.abc import Callable, Iterable
from typing import Any

from iamwarden.adapters.errors import error_code
from iamwarden.domain.trails import covers_region, logs_management_writes, selector_impairments


class TrailCoverage:
    """The trail check of the security account and of the managed member accounts the heartbeat reads this run
    (through their ``iamwarden-snapshot-reader`` role, which may read their trails)."""

    def __init__(
        self,
        home_account: str,
        region: str,
        cloudtrail_in: Callable[[str, str], Any],
        members: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self.home_account = home_account
        self.region = region
        #: ``(account, region) -> cloudtrail client`` acting in that account there.
        self.cloudtrail_in = cloudtrail_in
        #: The member accounts to check this run (the ones the member snapshots take: a bounded number a run).
        self.members = members

    def problems(self) -> list[str]:
        problems: list[str] = []
        try:
            members = sorted(set(self.members()) - {self.home_account})
        except Exception as exc:
            members = []
            problems.append(
                f"the managed accounts cannot be read ({error_code(exc) or exc}): no member's trail checked"
            )
        for account in [self.home_account, *members]:
            try:
                client = self.cloudtrail_in(account, self.region)
            except Exception as exc:
                problems.append(
                    f"the trails of {account} cannot be checked: its snapshot role cannot be used "
                    f"({error_code(exc) or exc})"
                )
                continue
            problems += trail_coverage_problems(client, account, self.region, self._in(account))
        return problems

    def _in(self, account: str) -> Callable[[str], Any]:
        return lambda region: self.cloudtrail_in(account, region)


def trail_coverage_problems(
    cloudtrail: Any, account: str, region: str, cloudtrail_in: Callable[[str], Any] | None = None
) -> list[str]:
    """One critical problem when no trail logs ``account``'s write management events in ``region``, else none.

    A trail homed in another region is read there (``cloudtrail_in``, when given): its home answers for it.
    """
    try:
        trails = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
    except Exception as exc:
        return [
            f"the trails of {account} in {region} cannot be listed ({error_code(exc) or exc}): whether any logs its "
            "management events (without one IAM Warden sees nothing there) is not known"
        ]
    why_not: list[str] = []
    for trail in trails:
        if not covers_region(trail, region):
            continue
        arn = str(trail.get("TrailARN") or trail.get("Name"))
        home = trail.get("HomeRegion")
        client = cloudtrail_in(home) if cloudtrail_in is not None and home and home != region else cloudtrail
        try:
            status = client.get_trail_status(Name=arn)
            selectors = client.get_event_selectors(TrailName=arn)
        except Exception as exc:
            why_not.append(f"{arn} cannot be read ({error_code(exc) or exc})")
            continue
        if logs_management_writes(status, selectors):
            return []
        why_not.append(f"{arn} {_why_not(status, selectors)}")
    found = "; ".join(why_not) if why_not else "there is no trail at all"
    return [
        f"no trail logs the management events of {account} in {region}: IAM Warden sees nothing there (EventBridge "
        f"gets CloudTrail's API calls only while a trail logs them); {found}. Start one: aws cloudtrail "
        "start-logging --name <trail ARN> (or create a trail)"
    ]


def _why_not(status: Any, selectors: Any) -> str:
    if not status.get("IsLogging"):
        return "is not logging"
    impairments = selector_impairments(
        selectors.get("EventSelectors") or None, selectors.get("AdvancedEventSelectors") or None
    )
    return "logs no " + ", ".join(i.what for i in impairments if i.critical)
