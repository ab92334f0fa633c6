"""Token endpoints."""
from flask import g, request

from tracker.api.schemas import TokenRequest, TokenResponse
from tracker.api.spec import endpoint
from tracker.extensions import db
from tracker.services import accounts


@endpoint("/auth/token", "POST", "Exchange a user name and password for a bearer token",
          body=TokenRequest, response=TokenResponse, status=201, auth=False,
          extra_responses={401: "Wrong credentials", 429: "Too many failed attempts"})
def create_token(body: TokenRequest):
    try:
        user = accounts.authenticate(body.username, body.password, request.remote_addr or "")
    except accounts.DomainError:
        db.session.commit()  # the failed attempt is recorded for throttling
        raise
    token, row = accounts.issue_token(user)
    db.session.commit()
    return TokenResponse(token=token, expires_at=row.expires_at)


@endpoint("/auth/token", "DELETE", "Revoke the token used for this request", status=204)
def revoke_token():
    accounts.revoke_token(g.api_token)
    db.session.commit()
    return "", 204
