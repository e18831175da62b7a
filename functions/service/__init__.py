"""The service layer shared by every handler, the Fargate worker and the local server."""
