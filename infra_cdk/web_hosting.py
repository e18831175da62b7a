"""The web dashboard's hosting: a private S3 bucket behind CloudFront with origin access control (OAC).

The bucket is reachable only through this distribution (OAC signs CloudFront's requests; the bucket policy names
the distribution). Every response carries the same strict CSP and security headers as ``hetero2 serve`` sends
(:mod:`functions.local.webapp`), set by a CloudFront response headers policy, so they cannot be dropped by an
upload with the wrong metadata. The app's files are uploaded by the deploy step (``aws s3 sync web/``, with a
``config.json`` naming the API and the identity provider; see docs/web.md), not by a CDK custom resource: that
would need a Lambda with an AWS managed policy, which this stack avoids.

``connect-src`` names the API's origin, the identity provider's, and the region's S3 virtual-host endpoints
(``https://*.s3.{region}.amazonaws.com``): presigned URLs name the artifact bucket, and naming that bucket here
would be a dependency cycle (its CORS rule names this distribution).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.local.webapp import SECURITY_HEADERS, content_security_policy, origin_of
from infra_cdk import nag
from infra_cdk.data import private_bucket
from infra_cdk.sso import hosted_ui_origin

if TYPE_CHECKING:
    from aws_cdk import aws_apigateway as apigw

    from infra_cdk.config import CustomerConfig

HSTS_SECONDS = 63_072_000  # two years, as SECURITY_HEADERS says
UPLOAD_HEADERS = ["content-type", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"]


class WebHosting(Construct):
    """``bucket`` (private, OAC), ``distribution`` (HTTPS only, the headers policy) and ``url``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: CustomerConfig,
        rest_api: apigw.RestApi,
        access_logs: s3.IBucket,
        artifacts: s3.Bucket,
    ) -> None:
        super().__init__(scope, construct_id)
        region = cdk.Stack.of(self).region
        api_origin = f"https://{rest_api.rest_api_id}.execute-api.{region}.{cdk.Aws.URL_SUFFIX}"
        identity = [origin_of(config.oidc.issuer)]
        if config.saml is not None:  # the Cognito pool: its OIDC discovery and JWKS, and the hosted UI's token endpoint
            identity += [f"https://cognito-idp.{region}.amazonaws.com", hosted_ui_origin(config.saml, region)]
        self.csp = content_security_policy((api_origin, f"https://*.s3.{region}.amazonaws.com", *identity))
        self.bucket = private_bucket(
            self,
            "Site",
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="web/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="HETERO-2 web dashboard: strict CSP and security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=self.csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.seconds(HSTS_SECONDS), include_subdomains=True, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header=name, value=SECURITY_HEADERS[name], override=True)
                    for name in ("Permissions-Policy", "Cross-Origin-Opener-Policy")
                ]
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"HETERO-2 web dashboard for {config.customer}",
            default_root_object="index.html",
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
            ),
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        # The page PUTs uploads to and GETs downloads from presigned artifact-bucket URLs.
        artifacts.add_cors_rule(
            allowed_origins=[self.url],
            allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
            allowed_headers=UPLOAD_HEADERS,
            exposed_headers=["ETag"],
            max_age=600,
        )
        for rule, reason in (
            ("AwsSolutions-CFR1", "web-geo"),
            ("AwsSolutions-CFR2", "web-waf"),
            ("AwsSolutions-CFR3", "web-cloudfront-logs"),
            ("AwsSolutions-CFR4", "web-default-certificate"),
        ):
            nag.acknowledge(self.distribution, rule, reason)
