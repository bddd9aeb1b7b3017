# Fake credentials for Dracon's gitleaks test. They match gitleaks' rules
# but are not, and never were, real keys.
AWS_ACCESS_KEY_ID = "AKIAQ2DRACONTESTFAKE"

def token():
    return "ghp_DraconFakeToken0123456789abcdefABCDE"
