"""Single sign-on through PingID: a Cognito user pool federated over SAML.

The seed lists "Add Amazon Cognito for PingID integration" as a future
enhancement and carries ``pingid_metadata_url``. With SSO on:

* users sign in only through PingID (the SAML identity provider
  ``PingID``, configured from its metadata URL, so PingID's certificate
  rotations are picked up by Cognito); nobody signs up in the pool itself;
* the React app is a public client (no secret) using the authorization code
  flow with PKCE against the pool's hosted UI domain, with scopes
  ``openid email profile``;
* the HTTP API checks the pool's tokens with a JWT authorizer (issuer
  ``https://cognito-idp.<region>.amazonaws.com/<pool id>``, audience the
  client id): see ``HttpApiProps.jwt_issuer``.

The pool keeps users, so deletion protection is on; MFA is optional (PingID
enforces its own); Cognito's advanced security (a paid tier) is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cognito_identity_provider import CognitoIdentityProvider
from cdktf_cdktf_provider_aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolAdminCreateUserConfig,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
    CognitoUserPoolUserPoolAddOns,
)
from cdktf_cdktf_provider_aws.cognito_user_pool_client import CognitoUserPoolClient, CognitoUserPoolClientTokenValidityUnits
from cdktf_cdktf_provider_aws.cognito_user_pool_domain import CognitoUserPoolDomain
from constructs import Construct

from constructs_lib._validation import Problems
from constructs_lib.aws_context import AwsContext

PROVIDER_NAME = "PingID"
OAUTH_SCOPES = ("openid", "email", "profile")
# The SAML attribute name PingID/PingOne sends the e-mail address in by
# default (the WS-Federation claim URI); change it to match the IdP's mapping.
DEFAULT_EMAIL_ATTRIBUTE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
# Attributes Cognito fills in after the provider is created; Terraform must
# not try to remove them (hashicorp/terraform-provider-aws#36912).
PROVIDER_DETAILS_SET_BY_COGNITO = ("ActiveEncryptionCertificate", "SLORedirectBindingURI", "SSORedirectBindingURI")
_POOL_NAME = r"[\w\s+=,.@-]{1,128}"
_DOMAIN_PREFIX = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")
_APP_URL = r"(https://[^\s]+|http://localhost(:[0-9]{1,5})?(/[^\s]*)?)"
_METADATA_URL = r"https://[^\s/$.?#][^\s]*"


def hosted_ui_origin(domain_prefix: str, region: str) -> str:
    """``https://<prefix>.auth.<region>.amazoncognito.com``, without referring to the domain resource.

    The frontend's CSP needs this origin while the user pool client needs
    the frontend's URL; building it from strings keeps the graph acyclic.
    """
    return f"https://{domain_prefix}.auth.{region}.amazoncognito.com"


@dataclass(frozen=True, kw_only=True)
class SingleSignOnProps:
    """Inputs of the user pool, the PingID provider and the frontend's client.

    name: user pool and client name, 1-128 characters, such as
        ``circle-of-trust``.
    domain_prefix: hosted UI domain ``<prefix>.auth.<region>.amazoncognito.com``,
        1-63 lower-case letters, digits and '-', without ``aws``, ``amazon``
        or ``cognito`` (Cognito reserves them); unique in the region.
    metadata_url: PingID's SAML metadata URL, https:// (the seed's
        ``pingid_metadata_url``).
    callback_urls: where Cognito may send the browser after sign-in:
        https:// URLs (http://localhost allowed for development), at least one.
    logout_urls: where Cognito may send the browser after sign-out, same
        rules, at least one.
    email_attribute: SAML attribute holding the user's e-mail. Default the
        WS-Federation ``emailaddress`` claim URI.
    password_minimum_length: 8-99. Default 14. Applies only to users an
        administrator creates in the pool (break-glass), not to PingID users.
    temporary_password_validity_days: 1-365. Default 3.
    access_token_validity_minutes: 5-1440. Default 60.
    id_token_validity_minutes: 5-1440. Default 60.
    refresh_token_validity_days: 1-3650. Default 30.
    deletion_protection: refuse to delete the pool (and its users). Default
        True: a deleted pool cannot be restored and every user id changes.
    """

    name: str
    domain_prefix: str
    metadata_url: str
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    email_attribute: str = DEFAULT_EMAIL_ATTRIBUTE
    password_minimum_length: int = 14
    temporary_password_validity_days: int = 3
    access_token_validity_minutes: int = 60
    id_token_validity_minutes: int = 60
    refresh_token_validity_days: int = 30
    deletion_protection: bool = True

    def __post_init__(self) -> None:
        problems = Problems("SingleSignOnProps")
        problems.matches("name", self.name, _POOL_NAME, "1-128 letters, digits, spaces and +=,.@_-")
        problems.matches("domain_prefix", self.domain_prefix, _DOMAIN_PREFIX, "1-63 lower-case letters, digits and '-', not starting or ending with '-'")
        reserved = [word for word in _RESERVED_DOMAIN_WORDS if word in self.domain_prefix]
        if reserved:
            problems.add(f"domain_prefix must not contain {', '.join(_RESERVED_DOMAIN_WORDS)} (Cognito reserves them), but {self.domain_prefix!r} was provided")
        problems.matches("metadata_url", self.metadata_url, _METADATA_URL, "an https:// URL")
        for key in ("callback_urls", "logout_urls"):
            urls = getattr(self, key)
            if not urls:
                problems.add(f"{key} must hold at least one URL, but none was provided")
            for url in urls:
                problems.matches(key, url, _APP_URL, "https:// URLs (or http://localhost)")
        if not self.email_attribute:
            problems.add("email_attribute must name the SAML attribute with the e-mail address, but an empty one was provided")
        problems.between("password_minimum_length", self.password_minimum_length, 8, 99)
        problems.between("temporary_password_validity_days", self.temporary_password_validity_days, 1, 365)
        problems.between("access_token_validity_minutes", self.access_token_validity_minutes, 5, 1440)
        problems.between("id_token_validity_minutes", self.id_token_validity_minutes, 5, 1440)
        problems.between("refresh_token_validity_days", self.refresh_token_validity_days, 1, 3650)
        problems.raise_if_any()


class SingleSignOn(Construct):
    """A user pool whose only way in is PingID, and the React app's client."""

    def __init__(self, scope: Construct, construct_id: str, props: SingleSignOnProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self._context = AwsContext.of(self)
        self.user_pool = CognitoUserPool(
            self,
            "user-pool",
            name=props.name,
            deletion_protection="ACTIVE" if props.deletion_protection else "INACTIVE",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            # Users come from PingID; nobody signs up in the pool.
            admin_create_user_config=CognitoUserPoolAdminCreateUserConfig(allow_admin_create_user_only=True),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(enabled=True),
            user_pool_add_ons=CognitoUserPoolUserPoolAddOns(advanced_security_mode="OFF"),
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=props.password_minimum_length,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=props.temporary_password_validity_days,
            ),
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)]
            ),
        )
        self.identity_provider = CognitoIdentityProvider(
            self,
            "pingid",
            user_pool_id=self.user_pool.id,
            provider_name=PROVIDER_NAME,
            provider_type="SAML",
            provider_details={"MetadataURL": props.metadata_url, "IDPSignout": "false"},
            attribute_mapping={"email": props.email_attribute},
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=[f'provider_details["{key}"]' for key in PROVIDER_DETAILS_SET_BY_COGNITO]
            ),
        )
        self.domain = CognitoUserPoolDomain(self, "domain", domain=props.domain_prefix, user_pool_id=self.user_pool.id)
        self.client = CognitoUserPoolClient(
            self,
            "frontend-client",
            name=f"{props.name}-frontend",
            user_pool_id=self.user_pool.id,
            generate_secret=False,  # a browser cannot keep a secret; PKCE protects the code
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=list(OAUTH_SCOPES),
            callback_urls=list(props.callback_urls),
            logout_urls=list(props.logout_urls),
            # The provider's name, read from the provider: the client waits for it.
            supported_identity_providers=[self.identity_provider.provider_name],
            explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=props.access_token_validity_minutes,
            id_token_validity=props.id_token_validity_minutes,
            refresh_token_validity=props.refresh_token_validity_days,
            token_validity_units=[
                CognitoUserPoolClientTokenValidityUnits(access_token="minutes", id_token="minutes", refresh_token="days")
            ],
        )

    # -- attributes -------------------------------------------------------------------
    @property
    def cognito_user_pool_id(self) -> str:
        return self.user_pool.id

    @property
    def cognito_user_pool_arn(self) -> str:
        return self.user_pool.arn

    @property
    def cognito_user_pool_client_id(self) -> str:
        return self.client.id

    @property
    def cognito_domain(self) -> str:
        """``https://<prefix>.auth.<region>.amazoncognito.com``: the hosted UI the SPA redirects to."""
        return hosted_ui_origin(self.domain.domain, self._context.region)

    @property
    def issuer_url(self) -> str:
        """``https://cognito-idp.<region>.amazonaws.com/<pool id>``: the tokens' ``iss``."""
        return f"https://cognito-idp.{self._context.region}.{self._context.dns_suffix}/{self.user_pool.id}"
