"""Deliberately committed credentials for Dracon's demo. They match
gitleaks' rules but are not, and never were, real keys."""

AWS_ACCESS_KEY_ID = "AKIAQ2DRACONDEMOFAKE"
