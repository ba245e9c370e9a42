"""AWS's own principals that deliver into customers' resources, as AWS documents them (data, with sources).

A bucket policy that lets these in is the everyday way AWS services write logs or serve content; they
are not "unknown accounts". What binds each to the customer's own account is data too: a source
condition (``aws:SourceAccount``/``aws:SourceArn``), or for the log deliveries that write only under
``AWSLogs/<source account>/``, a Resource naming that path. ``iamwarden.domain.exposure`` reads this
table; it stays a plain module of constants so the enforcer's cold import pays nothing to load it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
#: ("Step 2: Attach a policy to your S3 bucket", Regions available before August 2022), and the same
#: list for Classic Load Balancers; the AWS GovCloud (US) and China pages give theirs. Regions opened
#: later have no such account: they use ``ELB_LOG_DELIVERY_SERVICE``.
ELB_ACCOUNT_SOURCE = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"
ELB_ACCOUNTS: Mapping[str, str] = MappingProxyType(
    {
        "us-east-1": "127311923021",
        "us-east-2": "033677994240",
        "us-west-1": "027434742980",
        "us-west-2": "797873946194",
        "af-south-1": "098369216593",
        "ap-east-1": "754344448648",
        "ap-southeast-3": "589379963580",
        "ap-south-1": "718504428378",
        "ap-northeast-3": "383597477331",
        "ap-northeast-2": "600734575887",
        "ap-southeast-1": "114774131450",
        "ap-southeast-2": "783225319266",
        "ap-northeast-1": "582318560864",
        "ca-central-1": "985666609251",
        "eu-central-1": "054676820928",
        "eu-west-1": "156460612806",
        "eu-west-2": "652711504416",
        "eu-south-1": "635631232127",
        "eu-west-3": "009996457667",
        "eu-north-1": "897822967062",
        "me-south-1": "076674570225",
        "sa-east-1": "507241528517",
        "us-gov-west-1": "048591011584",
        "us-gov-east-1": "190560391635",
        "cn-north-1": "638102146993",
        "cn-northwest-1": "037604701340",
    }
)
#: The same page: the principal for every Region (and the only one for Regions opened since August 2022).
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"

#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
#: (legacy origin access identity): ``"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E…"``.
#: The ``CanonicalUser`` form names the OAI's S3 canonical user id, which looks like any account's: it is
#: trusted only when listed in ``cloudfront_oai_canonical_ids`` or found by CloudFront's
#: ``ListCloudFrontOriginAccessIdentities`` (``S3CanonicalUserId``) in the bucket's account, otherwise judged as
#: an unknown canonical user (``needs_context``), never taken on trust.
CLOUDFRONT_OAI_ACCOUNT = "cloudfront"
CLOUDFRONT_OAI_RESOURCE_PREFIX = "user/CloudFront Origin Access Identity "

#: Service principals that act for a customer account, and where AWS documents the bucket policy that
#: binds them to it (the "confused deputy" guard): a statement letting one in without a source condition
#: lets the service act for *any* account. Any other service principal is judged the same way.
SERVICE_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        # origin access control: "AWS:SourceArn": "arn:aws:cloudfront::<account>:distribution/<id>"
        "cloudfront.amazonaws.com": (
            "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html"
        ),
        "logging.s3.amazonaws.com": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
        "delivery.logs.amazonaws.com": (
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html"
        ),
        "cloudtrail.amazonaws.com": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html",
        "config.amazonaws.com": "https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html",
        ELB_LOG_DELIVERY_SERVICE: ELB_ACCOUNT_SOURCE,
    }
)

#: Deliveries that write only under ``…/AWSLogs/<source account>/…`` (the pages above): a statement whose every
#: Resource names that path is bound to those accounts even without a source condition (the ELB example
#: policies bind them this way). ``"elasticloadbalancing"`` stands for the ELB accounts of ``ELB_ACCOUNTS``.
WRITES_UNDER_SOURCE_ACCOUNT = frozenset(
    {
        ELB_LOG_DELIVERY_SERVICE,
        "elasticloadbalancing",
        "delivery.logs.amazonaws.com",
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
    }
)


def elb_account_region(account: str, region: str | None) -> str | None:
    """The Region whose Elastic Load Balancing account ``account`` is (the event's own when it is known), or None."""
    if region is not None:
        return region if ELB_ACCOUNTS.get(region) == account else None
    return next((name for name, owner in ELB_ACCOUNTS.items() if owner == account), None)
