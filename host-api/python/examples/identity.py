from plaza_sdk import Denied, identity, log


def register() -> str:
    # No consent needed: the user's pseudonym in this mini-app.
    openid = identity.openid()
    # Needs `real-name` in the manifest's scopes, a verified publisher in a
    # category the policy allows, and the user's consent (the host asks).
    try:
        person = identity.real_name()
        log.info(f"registering {person.name} as {openid}")
    except Denied as e:
        # Refused or not allowed: let the user type the name instead.
        log.info(f"no real name: {e}")
    # A code for the mini-app's own backend to exchange for the openid.
    return identity.login().code
