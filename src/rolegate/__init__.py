"""rolegate: a local AWS IAM/STS server and an explainable IAM policy engine."""

__version__ = "0.1.0"
