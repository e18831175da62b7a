"""SAML 2.0 sign-in: a Cognito user pool federating the customer's IdP, and an app client for the dashboard (PKCE).

OIDC needs none of this (the API trusts the customer's issuer and JWKS directly). With SAML, the pool is a second
trusted issuer (``HETERO2_SSO_ISSUERS``): its ID tokens carry the user's org and groups as ``custom:org`` and
``custom:groups``, copied from the SAML attributes the config names at every sign-in. Only federated users exist:
no self sign-up, no local passwords in use, and the app client offers the SAML provider only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra_cdk import nag

if TYPE_CHECKING:
    from infra_cdk.config import CustomerConfig, SamlConfig

ORG_ATTRIBUTE: Final = "org"
GROUPS_ATTRIBUTE: Final = "groups"
ORG_CLAIM: Final = f"custom:{ORG_ATTRIBUTE}"
GROUPS_CLAIM: Final = f"custom:{GROUPS_ATTRIBUTE}"
TOKEN_HOURS: Final = 1


def hosted_ui_origin(saml: SamlConfig, region: str) -> str:
    """Where the dashboard sends the browser to sign in and exchanges the code (its CSP must allow it)."""
    return f"https://{saml.domain_prefix}.auth.{region}.amazoncognito.com"


class SamlSignIn(Construct):
    """User pool, SAML provider, hosted-UI domain and the dashboard's public app client."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: CustomerConfig, saml: SamlConfig, callback_urls: list[str]
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        self.pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"hetero2-{config.customer}",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            custom_attributes={
                ORG_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=63, mutable=True),
                GROUPS_ATTRIBUTE: cognito.StringAttribute(max_len=2048, mutable=True),
            },
            # No local users sign in (the client offers SAML only); should an operator add one, it is held to these.
            password_policy=cognito.PasswordPolicy(
                min_length=14, require_digits=True, require_lowercase=True, require_uppercase=True, require_symbols=True
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.NONE,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):  # threat protection, and the Plus plan it needs
            nag.acknowledge(self.pool, rule, "cognito-federated-only")
        metadata = (
            cognito.UserPoolIdentityProviderSamlMetadata.url(saml.metadata_url)
            if saml.metadata_url is not None
            else cognito.UserPoolIdentityProviderSamlMetadata.file(config.saml_metadata or "")
        )
        # keys are the pool's attribute names as written: custom attributes carry their "custom:" prefix
        custom = {ORG_CLAIM: cognito.ProviderAttribute.other(saml.org_attribute)}
        if saml.groups_attribute is not None:
            custom[GROUPS_CLAIM] = cognito.ProviderAttribute.other(saml.groups_attribute)
        self.provider = cognito.UserPoolIdentityProviderSaml(
            self,
            "Saml",
            user_pool=self.pool,
            name=saml.provider_name,
            metadata=metadata,
            attribute_mapping=cognito.AttributeMapping(
                email=cognito.ProviderAttribute.other(saml.email_attribute), custom=custom
            ),
        )
        self.domain = self.pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=saml.domain_prefix)
        )
        self.client = self.pool.add_client(
            "Dashboard",
            user_pool_client_name=f"hetero2-{config.customer}-dashboard",
            generate_secret=False,  # a browser app: authorization code with PKCE, no secret to keep
            auth_flows=cognito.AuthFlow(user_srp=False, user_password=False, admin_user_password=False, custom=False),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=callback_urls,
                logout_urls=callback_urls,
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.custom(saml.provider_name)],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=cdk.Duration.hours(TOKEN_HOURS),
            access_token_validity=cdk.Duration.hours(TOKEN_HOURS),
            refresh_token_validity=cdk.Duration.hours(12),
        )
        self.client.node.add_dependency(self.provider)
        self.issuer = f"https://cognito-idp.{region}.{cdk.Aws.URL_SUFFIX}/{self.pool.user_pool_id}"
        self.hosted_ui = hosted_ui_origin(saml, region)

    def trusted_issuer(self) -> dict[str, str]:
        """The API's entry for this pool (functions/api/auth.py ``TrustedIssuer``): ID tokens, audience the client."""
        return {
            "issuer": self.issuer,
            "audience": self.client.user_pool_client_id,
            "jwks_url": f"{self.issuer}/.well-known/jwks.json",
            "org_claim": ORG_CLAIM,
            "group_claim": GROUPS_CLAIM,
        }
