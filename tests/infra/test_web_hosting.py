"""The web dashboard's hosting in every synthesized stack: private bucket, CloudFront with OAC, the headers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from functions.local.webapp import SECURITY_HEADERS

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized


def _one(synthesized: Synthesized, stack: str, kind: str) -> dict[str, Any]:
    found = synthesized.resources(stack, kind)
    assert len(found) == 1, f"{stack}: {len(found)} {kind}"
    return next(iter(found.values()))["Properties"]


def _text(value: Any) -> str:
    """A template value as text; intrinsic functions (tokens) are kept as their JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def test_the_response_headers_policy_sets_a_strict_csp_and_the_security_headers(synthesized: Synthesized) -> None:
    for stack in synthesized.templates:
        config = _one(synthesized, stack, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
        security = config["SecurityHeadersConfig"]
        csp = _text(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
        assert security["ContentSecurityPolicy"]["Override"] is True
        for directive in (
            "default-src 'none'",
            "script-src 'self';",
            "style-src 'self';",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ):
            assert directive in csp, (stack, directive)
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert ".execute-api." in csp  # connect-src: the API
        assert synthesized.configs[stack].oidc.issuer.split("/")[2] in csp  # connect-src: the identity provider
        assert security["ContentTypeOptions"] == {"Override": True}
        assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
        assert security["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
        assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 63_072_000
        assert security["StrictTransportSecurity"]["IncludeSubdomains"] is True
        custom = {h["Header"]: h["Value"] for h in config["CustomHeadersConfig"]["Items"]}
        assert custom == {name: SECURITY_HEADERS[name] for name in ("Permissions-Policy", "Cross-Origin-Opener-Policy")}


def test_the_distribution_is_https_only_uses_oac_and_the_headers_policy(synthesized: Synthesized) -> None:
    for stack in synthesized.templates:
        distribution = _one(synthesized, stack, "AWS::CloudFront::Distribution")["DistributionConfig"]
        behavior = distribution["DefaultCacheBehavior"]
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
        assert "ResponseHeadersPolicyId" in behavior
        assert distribution["DefaultRootObject"] == "index.html"
        [origin] = distribution["Origins"]
        assert "OriginAccessControlId" in origin
        assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
        oac = _one(synthesized, stack, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
        assert oac["SigningBehavior"] == "always"
        assert oac["OriginAccessControlOriginType"] == "s3"


def test_the_site_bucket_is_private_and_readable_by_the_distribution_only(synthesized: Synthesized) -> None:
    for stack in synthesized.templates:
        buckets = synthesized.resources(stack, "AWS::S3::Bucket")
        [site] = [logical for logical in buckets if logical.startswith("WebSite")]
        properties = buckets[site]["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert "LoggingConfiguration" in properties
        policies = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in synthesized.resources(stack, "AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": site}
        ]
        [statements] = policies
        reads = [s for s in statements if s["Effect"] == "Allow"]
        assert reads, "no read grant for CloudFront"
        for statement in reads:
            assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            assert "AWS:SourceArn" in json.dumps(statement["Condition"])


def test_the_artifact_bucket_lets_the_dashboard_origin_upload_and_download(synthesized: Synthesized) -> None:
    for stack in synthesized.templates:
        buckets = synthesized.resources(stack, "AWS::S3::Bucket")
        [artifacts] = [b["Properties"] for logical, b in buckets.items() if logical.startswith("DataArtifacts")]
        [rule] = artifacts["CorsConfiguration"]["CorsRules"]
        assert sorted(rule["AllowedMethods"]) == ["GET", "PUT"]
        [origin] = rule["AllowedOrigins"]
        assert "WebDistribution" in json.dumps(origin)
