"""SSO group claims → org roles (issue 14): the customer config maps an IdP group to an org role in one org; a token
carrying that group gets the role there, unmapped groups get nothing, and no mapping reaches another org.

Over real HTTP, the identity provider is a test harness (``hetero2 serve --issuer-key``) minting tokens with group
claims; the unit tests cover the claim shapes (Cognito's ``cognito:groups`` list, a SAML attribute mapped to a
Cognito custom attribute as one string) and the second trusted issuer (the SAML user pool).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests

from functions.api.auth import AuthConfig, TokenVerifier, TrustedIssuer, group_roles, token_groups
from functions.api.errors import AuthenticationError
from functions.local.server import TokenIssuer
from functions.service import env
from functions.service.directory import OrgRole
from tests.api.serve_process import serve_with_issuer_key

if TYPE_CHECKING:
    from pathlib import Path

ORG_A, ORG_B = "sso-a", "sso-b"
ADMINS = "hetero-admins"
MAPPING = {ORG_A: {ADMINS: "org_admin", "chemists": "member"}}


def test_mapped_groups_get_their_role_in_their_org_only_over_http(tmp_path: Path) -> None:
    with serve_with_issuer_key(tmp_path, {env.GROUP_ROLES: json.dumps(MAPPING)}) as served:
        base, mint = served.base, served.idp.headers

        def get(path: str, user: str, org: str, groups: list[str]) -> requests.Response:
            return requests.get(f"{base}{path}", headers=mint(user, org, **{"cognito:groups": groups}), timeout=30)

        for org in (ORG_A, ORG_B):
            created = requests.post(f"{base}/v1/orgs", json={"name": org}, headers=mint(f"{org}-boss", org), timeout=60)
            assert created.status_code == 201, created.text
        # a mapped group: org_admin in its org, including what only an org admin may read
        carol = get(f"/v1/orgs/{ORG_A}", "carol", ORG_A, ["staff", ADMINS])
        assert carol.json()["your_role"] == "org_admin"
        assert get(f"/v1/orgs/{ORG_A}/audit", "carol", ORG_A, [ADMINS]).status_code == 200
        # unmapped groups, or none: nothing beyond a member's role
        for groups in (["staff"], [], ["HETERO-ADMINS"]):
            assert get(f"/v1/orgs/{ORG_A}", "dave", ORG_A, groups).json()["your_role"] == "member"
            assert get(f"/v1/orgs/{ORG_A}/audit", "dave", ORG_A, groups).status_code == 403
        # the same group in another org's token: org B has no mapping for it, and org A stays out of reach
        assert get(f"/v1/orgs/{ORG_B}", "erin", ORG_B, [ADMINS]).json()["your_role"] == "member"
        assert get(f"/v1/orgs/{ORG_B}/audit", "erin", ORG_B, [ADMINS]).status_code == 403
        assert get(f"/v1/orgs/{ORG_A}", "erin", ORG_B, [ADMINS]).status_code == 404
        assert get(f"/v1/orgs/{ORG_A}/audit", "erin", ORG_B, [ADMINS]).status_code == 404
        # the role lasts as long as the group: dropped from the group, carol is a member again
        assert get(f"/v1/orgs/{ORG_A}/audit", "carol", ORG_A, ["staff"]).status_code == 403


@pytest.fixture
def primary() -> TokenIssuer:
    return TokenIssuer()


def _verifier(primary: TokenIssuer, **config: object) -> TokenVerifier:
    return TokenVerifier(
        AuthConfig(primary.issuer, primary.audience, jwks=primary.jwks, group_roles=group_roles(MAPPING), **config)  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ([ADMINS, "x"], (ADMINS, "x")),
        (f"[x, {ADMINS}]", ("x", ADMINS)),  # a multi-valued SAML attribute as Cognito writes it into a custom attribute
        (f"{ADMINS},x", (ADMINS, "x")),
        (ADMINS, (ADMINS,)),
        (None, ()),
        (7, ()),
        ([ADMINS, 3, ""], (ADMINS,)),
    ],
)
def test_a_groups_claim_is_read_as_a_list_or_a_comma_separated_string(claim: object, expected: tuple[str, ...]) -> None:
    assert token_groups(claim) == expected


def test_the_configured_claim_name_is_the_one_read(primary: TokenIssuer) -> None:
    verifier = _verifier(primary, group_claim="groups")
    by_name = verifier.verify("Bearer " + primary.token("carol", ORG_A, groups=[ADMINS]))
    assert by_name.group_role == OrgRole.ORG_ADMIN
    cognito: dict[str, Any] = {"cognito:groups": [ADMINS]}
    other_claim = verifier.verify("Bearer " + primary.token("carol", ORG_A, **cognito))
    assert other_claim.group_role is None


def test_the_strongest_mapped_role_wins_and_another_orgs_mapping_is_never_read(primary: TokenIssuer) -> None:
    verifier = _verifier(primary)
    assert verifier.group_role(ORG_A, ("chemists", ADMINS)) == OrgRole.ORG_ADMIN
    assert verifier.group_role(ORG_A, ("chemists",)) == OrgRole.MEMBER
    assert verifier.group_role(ORG_A, ("nobody",)) is None
    assert verifier.group_role(ORG_B, (ADMINS,)) is None


def test_the_saml_user_pool_is_a_second_issuer_with_its_own_keys_audience_and_claims(primary: TokenIssuer) -> None:
    pool = TokenIssuer(issuer="https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Pool", audience="client-1")
    saml = TrustedIssuer(
        pool.issuer, pool.audience, jwks=pool.jwks, org_claim="custom:org", group_claim="custom:groups"
    )
    verifier = _verifier(primary, sso_issuers=(saml,))
    claims: dict[str, Any] = {"custom:org": ORG_A, "custom:groups": f"[{ADMINS}]", "hetero2:org": ORG_B}
    principal = verifier.verify("Bearer " + pool.token("saml-user", ORG_B, **claims))
    assert (principal.org, principal.group_role) == (ORG_A, OrgRole.ORG_ADMIN), "the pool's own org claim is read"
    assert verifier.verify("Bearer " + primary.token("alice", ORG_B)).org == ORG_B
    forged = TokenIssuer(issuer=pool.issuer, audience=pool.audience)  # the pool's name, another key
    with pytest.raises(AuthenticationError):
        verifier.verify("Bearer " + forged.token("saml-user", ORG_A, **claims))
    with pytest.raises(AuthenticationError):  # the primary's key cannot sign for the pool
        verifier.verify("Bearer " + primary.token("saml-user", ORG_A, iss=pool.issuer, aud=pool.audience, **claims))


@pytest.mark.parametrize(
    "document",
    [[], {ORG_A: ["admins"]}, {ORG_A: {ADMINS: "admin"}}, {"Bad Org": {ADMINS: "org_admin"}}, {ORG_A: {"": "member"}}],
)
def test_a_malformed_mapping_is_refused_at_start(document: object) -> None:
    with pytest.raises(RuntimeError, match=env.GROUP_ROLES):
        group_roles(document)
