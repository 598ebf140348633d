"""Custom domain: DNS-validated certificates and Route 53 aliases.

With ``domain_name`` = ``app.example.com`` and the Route 53 hosted zone that
serves it, the app answers on:

* ``https://app.example.com``: the frontend's CloudFront distribution;
* ``https://api.app.example.com``: the HTTP API's distribution;
* ``wss://ws.app.example.com``: the WebSocket API's distribution;

each with an alias record in the zone. CloudFront serves all three names
(so the web ACL covers them), with one certificate in us-east-1, where
CloudFront reads certificates, whatever the stack's region
(``stacks.edge_layer``).

Certificates are validated by DNS: the validation CNAMEs go into the same
hosted zone, and ``aws_acm_certificate_validation`` waits until ACM has
issued the certificate, so nothing uses it before. That is why a custom
domain needs a hosted zone ID: without one there is nowhere to put the
validation records (and the aliases), and the stack keeps the default
endpoints instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformIterator, TerraformProvider, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from constructs_lib._validation import Problems

API_SUBDOMAIN = "api"
WEBSOCKET_SUBDOMAIN = "ws"
_DOMAIN = r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
# Upper-case letters and digits (AWS's start with Z, which is not documented), no "/hostedzone/".
_HOSTED_ZONE_ID = r"[A-Z0-9]{1,32}"


def _check_domain(problems: Problems, name: str, value: str) -> None:
    problems.matches(name, value, _DOMAIN, "a lower-case DNS name such as app.example.com")


def _check_zone(problems: Problems, value: str) -> None:
    problems.matches("hosted_zone_id", value, _HOSTED_ZONE_ID, "a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (upper-case letters and digits, no /hostedzone/ prefix)")


# ---------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class DnsValidatedCertificateProps:
    """Inputs of an ACM certificate validated through Route 53.

    domain_name: the certificate's name, such as ``app.example.com``.
    hosted_zone_id: public Route 53 zone that serves the names.
    subject_alternative_names: more names on the same certificate, such as
        ``ws.app.example.com``. Default none.
    provider: the aws provider to create the certificate with, such as a
        us-east-1 alias for CloudFront when the stack is elsewhere. Default
        None (the stack's provider). The Route 53 records always use the
        stack's provider (Route 53 is global).
    validation_record_ttl_seconds: TTL of the validation CNAMEs, 60-172800.
        Default 60.
    """

    domain_name: str
    hosted_zone_id: str
    subject_alternative_names: tuple[str, ...] = ()
    provider: TerraformProvider | None = None
    validation_record_ttl_seconds: int = 60

    def __post_init__(self) -> None:
        problems = Problems("DnsValidatedCertificateProps")
        _check_domain(problems, "domain_name", self.domain_name)
        _check_zone(problems, self.hosted_zone_id)
        for name in self.subject_alternative_names:
            _check_domain(problems, "subject_alternative_names", name)
        if self.domain_name in self.subject_alternative_names:
            problems.add(f"subject_alternative_names must not repeat domain_name, but {self.domain_name!r} was provided")
        problems.between("validation_record_ttl_seconds", self.validation_record_ttl_seconds, 60, 172800)
        problems.raise_if_any()


class DnsValidatedCertificate(Construct):
    """An ACM certificate, its validation records, and the wait for issuance."""

    def __init__(self, scope: Construct, construct_id: str, props: DnsValidatedCertificateProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=props.domain_name,
            subject_alternative_names=list(props.subject_alternative_names) or None,
            validation_method="DNS",
            provider=props.provider,
            tags={"Name": props.domain_name},
            # A new name means a new certificate; users switch before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # One CNAME per name, keyed by the name, the provider documentation's
        # for-expression over the set. Not TerraformIterator.from_complex_list:
        # it wraps the set in tolist(), which is unknown until the certificate
        # exists, and then `terraform plan` refuses the for_each.
        options = TerraformIterator.from_map(
            Token.as_any_map(f"${{{{ for option in {self.certificate.fqn}.domain_validation_options : option.domain_name => option }}}}")
        )
        self.validation_records = Route53Record(
            self,
            "validation-records",
            for_each=options,
            zone_id=props.hosted_zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=props.validation_record_ttl_seconds,
            # ACM gives one name the same CNAME in every certificate of the account.
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(self.validation_records).pluck_property("fqdn")),
            provider=props.provider,
        )

    @property
    def certificate_arn(self) -> str:
        """The ARN, read through the validation: users wait until ACM has issued it."""
        return self.validation.certificate_arn


# ---------------------------------------------------------------------------
# Alias records
# ---------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class AliasRecordsProps:
    """Inputs of Route 53 alias records for one name.

    name: the record name, such as ``app.example.com``.
    hosted_zone_id: the zone to put the records in.
    target_dns_name: what the alias points at, such as a CloudFront domain.
    target_hosted_zone_id: the target's own zone (from the target resource).
    ipv6: add an AAAA record beside the A record. Default True (CloudFront
        serves IPv6); False for targets without IPv6.
    """

    name: str
    hosted_zone_id: str
    target_dns_name: str
    target_hosted_zone_id: str
    ipv6: bool = True

    def __post_init__(self) -> None:
        problems = Problems("AliasRecordsProps")
        _check_domain(problems, "name", self.name)
        _check_zone(problems, self.hosted_zone_id)
        problems.raise_if_any()


class AliasRecords(Construct):
    """A (and AAAA) alias records; alias queries are free and follow the target's IPs."""

    def __init__(self, scope: Construct, construct_id: str, props: AliasRecordsProps) -> None:
        super().__init__(scope, construct_id)
        self.records = [
            Route53Record(
                self,
                record_type.lower(),
                zone_id=props.hosted_zone_id,
                name=props.name,
                type=record_type,
                alias=Route53RecordAlias(
                    name=props.target_dns_name, zone_id=props.target_hosted_zone_id, evaluate_target_health=False
                ),
            )
            for record_type in (("A", "AAAA") if props.ipv6 else ("A",))
        ]

    @property
    def fqdn(self) -> str:
        return self.records[0].fqdn
