"""HETERO-2 CDK app: one CloudFormation stack per customer region, synthesized from ``deploy/customers/``.

Synth needs Node (jsii) but no Docker and no AWS account; ``docs/deploy.md`` says what a deploy needs on top.
"""
