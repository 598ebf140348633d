"""Single sign-on: user pool, PingID SAML provider, hosted UI domain, the frontend's client."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.identity import DEFAULT_EMAIL_ATTRIBUTE, SingleSignOn, SingleSignOnProps, hosted_ui_origin
from tests.support import logical_id, only, ref, resources, synth_construct

METADATA_URL = "https://sso.pingone.com/your-org-id/saml/metadata"
REQUIRED = dict(
    name="circle-of-trust",
    domain_prefix="circle-of-trust",
    metadata_url=METADATA_URL,
    callback_urls=("https://app.example.com/",),
    logout_urls=("https://app.example.com/",),
)


def props(**overrides) -> SingleSignOnProps:
    return SingleSignOnProps(**{**REQUIRED, **overrides})


def build(**overrides):
    def make(stack):
        sso = SingleSignOn(stack, "sso", props(**overrides))
        for name in ("cognito_user_pool_id", "cognito_user_pool_arn", "cognito_user_pool_client_id", "cognito_domain", "issuer_url"):
            TerraformOutput(stack, name, value=getattr(sso, name))

    return synth_construct(make)


@pytest.fixture(scope="module")
def document():
    return build()


def pool_ref(document, attribute):
    return ref(document, "aws_cognito_user_pool", logical_id(resources(document, "aws_cognito_user_pool"), "sso/user-pool"), attribute)


def test_pool_is_protected_with_optional_mfa_and_no_advanced_security(document):
    pool = only(document, "aws_cognito_user_pool")
    assert pool["name"] == "circle-of-trust"
    assert pool["deletion_protection"] == "ACTIVE"
    assert pool["mfa_configuration"] == "OPTIONAL"
    assert pool["software_token_mfa_configuration"] == {"enabled": True}
    assert pool["user_pool_add_ons"] == {"advanced_security_mode": "OFF"}
    assert pool["admin_create_user_config"] == {"allow_admin_create_user_only": True}


def test_pool_password_policy_is_strong(document):
    assert only(document, "aws_cognito_user_pool")["password_policy"] == {
        "minimum_length": 14,
        "require_lowercase": True,
        "require_uppercase": True,
        "require_numbers": True,
        "require_symbols": True,
        "temporary_password_validity_days": 3,
    }


def test_pingid_is_a_saml_provider_read_from_its_metadata_url(document):
    provider = only(document, "aws_cognito_identity_provider")
    assert provider["user_pool_id"] == pool_ref(document, "id")
    assert (provider["provider_name"], provider["provider_type"]) == ("PingID", "SAML")
    assert provider["provider_details"] == {"MetadataURL": METADATA_URL, "IDPSignout": "false"}
    assert provider["attribute_mapping"] == {"email": DEFAULT_EMAIL_ATTRIBUTE}
    # Cognito adds these itself (and rotates the certificate): never fight it.
    assert provider["lifecycle"]["ignore_changes"] == [
        'provider_details["ActiveEncryptionCertificate"]',
        'provider_details["SLORedirectBindingURI"]',
        'provider_details["SSORedirectBindingURI"]',
    ]


def test_hosted_ui_domain(document):
    domain = only(document, "aws_cognito_user_pool_domain")
    assert domain["domain"] == "circle-of-trust"
    assert domain["user_pool_id"] == pool_ref(document, "id")


def test_frontend_client_is_public_and_uses_the_code_flow_through_pingid(document):
    client = only(document, "aws_cognito_user_pool_client")
    provider_id = logical_id(resources(document, "aws_cognito_identity_provider"), "sso/pingid")
    assert client["user_pool_id"] == pool_ref(document, "id")
    assert client["generate_secret"] is False
    assert client["allowed_oauth_flows_user_pool_client"] is True
    assert client["allowed_oauth_flows"] == ["code"]
    assert client["allowed_oauth_scopes"] == ["openid", "email", "profile"]
    assert client["callback_urls"] == ["https://app.example.com/"]
    assert client["logout_urls"] == ["https://app.example.com/"]
    # Read from the provider resource, so the client is created after it.
    assert client["supported_identity_providers"] == [ref(document, "aws_cognito_identity_provider", provider_id, "provider_name")]
    assert client["explicit_auth_flows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["prevent_user_existence_errors"] == "ENABLED"
    assert (client["access_token_validity"], client["id_token_validity"], client["refresh_token_validity"]) == (60, 60, 30)
    assert client["token_validity_units"] == [{"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"}]


def test_issuer_and_hosted_ui_urls(document):
    values = {name: output["value"] for name, output in document["output"].items()}
    assert values["cognito_user_pool_id"] == pool_ref(document, "id")
    client_id = logical_id(resources(document, "aws_cognito_user_pool_client"), "sso/frontend-client")
    assert values["cognito_user_pool_client_id"] == ref(document, "aws_cognito_user_pool_client", client_id, "id")
    issuer = values["issuer_url"]
    assert issuer.startswith("https://cognito-idp.${data.aws_region.") and issuer.endswith(f".dns_suffix}}/{pool_ref(document, 'id')}")
    domain_id = logical_id(resources(document, "aws_cognito_user_pool_domain"), "sso/domain")
    assert values["cognito_domain"].startswith(f"https://{ref(document, 'aws_cognito_user_pool_domain', domain_id, 'domain')}.auth.${{data.aws_region.")
    assert values["cognito_domain"].endswith(".amazoncognito.com")
    assert hosted_ui_origin("cot", "eu-west-1") == "https://cot.auth.eu-west-1.amazoncognito.com"


def test_deletion_protection_can_be_lifted_for_disposable_environments():
    assert only(build(deletion_protection=False), "aws_cognito_user_pool")["deletion_protection"] == "INACTIVE"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "name must be 1-128 letters, digits, spaces and +=,.@_-, but '' was provided"),
        ({"domain_prefix": "Circle"}, "domain_prefix must be 1-63 lower-case letters, digits and '-', not starting or ending with '-', but 'Circle' was provided"),
        ({"domain_prefix": "my-cognito-app"}, "domain_prefix must not contain aws, amazon, cognito (Cognito reserves them), but 'my-cognito-app' was provided"),
        ({"metadata_url": "http://sso.example.com/metadata"}, "metadata_url must be an https:// URL, but 'http://sso.example.com/metadata' was provided"),
        ({"callback_urls": ()}, "callback_urls must hold at least one URL, but none was provided"),
        ({"logout_urls": ("http://app.example.com/",)}, "logout_urls must be https:// URLs (or http://localhost), but 'http://app.example.com/' was provided"),
        ({"email_attribute": ""}, "email_attribute must name the SAML attribute with the e-mail address, but an empty one was provided"),
        ({"password_minimum_length": 7}, "password_minimum_length must be between 8 and 99, but 7 was provided"),
        ({"temporary_password_validity_days": 0}, "temporary_password_validity_days must be between 1 and 365, but 0 was provided"),
        ({"access_token_validity_minutes": 4}, "access_token_validity_minutes must be between 5 and 1440, but 4 was provided"),
        ({"id_token_validity_minutes": 1441}, "id_token_validity_minutes must be between 5 and 1440, but 1441 was provided"),
        ({"refresh_token_validity_days": 3651}, "refresh_token_validity_days must be between 1 and 3650, but 3651 was provided"),
    ],
)
def test_props_name_the_field_the_allowed_values_and_the_value(overrides, message):
    with pytest.raises(ValueError) as caught:
        props(**overrides)
    assert str(caught.value).startswith("SingleSignOnProps: ")
    assert message in str(caught.value)


def test_props_report_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        props(metadata_url="", callback_urls=(), password_minimum_length=100)
    assert str(caught.value).count("; ") == 2


def test_localhost_callbacks_are_allowed_for_development():
    props(callback_urls=("https://app.example.com/", "http://localhost:5173/"))
