"""One customer region = one stack: data, compute, orchestration, API, events, observability, grants."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk

from infra_cdk import access, checkov, contract
from infra_cdk.api import Api
from infra_cdk.compute import Compute
from infra_cdk.data import DataStore
from infra_cdk.events import EventRouting
from infra_cdk.foundation import Foundation
from infra_cdk.observability import Observability
from infra_cdk.orchestration import Orchestration
from infra_cdk.siem import SiemExport
from infra_cdk.sso import SamlSignIn
from infra_cdk.web_hosting import WebHosting

if TYPE_CHECKING:
    from constructs import Construct

    from infra_cdk.assets import AssetPaths
    from infra_cdk.config import CustomerConfig


class Hetero2Stack(cdk.Stack):
    """The whole service for one customer in one region, named ``Hetero2-{customer}-{region}``."""

    def __init__(self, scope: Construct, *, config: CustomerConfig, assets: AssetPaths, definition: str) -> None:
        super().__init__(
            scope,
            config.stack_name,
            env=cdk.Environment(account=config.account, region=config.region),
            description=f"HETERO-2 audit service for {config.customer} in {config.region}",
            termination_protection=True,
        )
        self.config = config
        cdk.Tags.of(self).add("hetero2:customer", config.customer)
        self.data = DataStore(self, "Data", config=config)
        self.compute = Compute(self, "Compute", config=config, data=self.data, assets=assets)
        foundation = Foundation(config=config, data=self.data, compute=self.compute)
        self.orchestration = Orchestration(self, "Orchestration", foundation=foundation, definition=definition)
        state_machine_arn = self.orchestration.state_machine.state_machine_arn
        self.api = Api(self, "Api", foundation=foundation, state_machine_arn=state_machine_arn)
        self.routing = EventRouting(self, "Events", foundation=foundation, state_machine_arn=state_machine_arn)
        access.apply(self.data, self.compute, self.orchestration)
        self.siem = SiemExport(self, "Siem", foundation=foundation, dead_letters=self.routing.dead_letters)
        self.observability = Observability(
            self,
            "Observability",
            foundation=foundation,
            orchestration=self.orchestration,
            api=self.api,
            routing=self.routing,
        )
        self.web = WebHosting(
            self,
            "Web",
            config=config,
            rest_api=self.api.rest_api,
            access_logs=self.data.access_logs,
            artifacts=self.data.bucket,
        )
        self.sso = self._saml_sign_in(config)
        checkov.apply(self, self.compute.functions, self.data.access_logs)  # last: it skips on every construct
        cdk.CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        cdk.CfnOutput(self, "WebUrl", value=self.web.url)
        cdk.CfnOutput(self, "WebBucket", value=self.web.bucket.bucket_name)
        cdk.CfnOutput(self, "ArtifactBucket", value=self.data.bucket.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=state_machine_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.observability.topic.topic_arn)
        cdk.CfnOutput(self, "AuditBusArn", value=self.siem.bus.event_bus_arn, description="OCSF audit events")
        for org, keys in self.data.tenants.items():
            # Drop-folder uploaders in other accounts name the key by ARN (an alias resolves in the caller's account).
            cdk.CfnOutput(self, f"DataKeyArn-{org}", value=keys.data.key_arn, description=f"SSE-KMS key of {org}")

    def _saml_sign_in(self, config: CustomerConfig) -> SamlSignIn | None:
        """With ``saml`` in the config: the Cognito pool, and the API trusting its ID tokens as a second issuer."""
        if config.saml is None:
            return None
        sso = SamlSignIn(
            self, "Sso", config=config, saml=config.saml, callback_urls=[self.web.url, *config.saml.callback_urls]
        )
        issuers = self.to_json_string([sso.trusted_issuer()])
        for name in ("Api", "Authorizer"):
            self.compute.functions[name].add_environment(contract.env.SSO_ISSUERS, issuers)
        cdk.CfnOutput(self, "SsoIssuer", value=sso.issuer, description="SAML sign-in: the user pool's issuer")
        cdk.CfnOutput(self, "SsoClientId", value=sso.client.user_pool_client_id, description="the dashboard's client")
        cdk.CfnOutput(self, "SsoHostedUi", value=sso.hosted_ui, description="the hosted sign-in")
        return sso

    @property
    def availability_zones(self) -> list[str]:
        """The config's zones: CDK would otherwise look them up, and synth would need AWS credentials."""
        return list(self.config.zones)
