"""Hypothesis strategies for the REST facade, the Action schema and the OAuth endpoints, with auth on.

The companion of :mod:`tests.fuzz_auth_kit` (``/mcp`` and the shared pieces) for
``tests/test_fuzz_auth.py``: each strategy draws :class:`~tests.fuzz_auth_kit.Req` values,
placeholders (``CLIENT``, ``OWNER``, ``REFRESH``) standing for what only the live server knows.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from tests.fuzz_auth_kit import (
    BODY_LIMIT,
    HOSTS,
    TOOLS,
    Req,
    arguments,
    credential_names,
    dumps,
    text,
    tool_calls,
    values,
)
from tests.oauth.consentkit import OAUTH_ENDPOINTS, OAUTH_FIELDS

# -- REST facade, Action schema, OAuth endpoints -------------------------------------------------------

names = st.sampled_from([*TOOLS, "missing", "", "add/x", "..%2Fmcp", "%00", "n" * 300, "\u00e9"]) | st.text(
    max_size=12
).map(lambda t: quote(t, safe=""))
form_pairs = st.lists(st.tuples(st.text(max_size=10), text), max_size=5)
rest_bodies = st.one_of(
    arguments.map(dumps),
    values.map(dumps),
    st.binary(max_size=120),
    form_pairs.map(lambda p: urlencode(p).encode()),
    st.just(b""),
    st.builds(lambda n: dumps({"value": "v" * n}), st.sampled_from([BODY_LIMIT - 20, BODY_LIMIT + 1])),
)
plain_types = st.sampled_from(
    ["application/json", "application/json", "text/plain", "application/x-www-form-urlencoded", ""]
)


@st.composite
def rest_requests(draw: st.DrawFn) -> Req:
    method = draw(st.sampled_from(["POST"] * 6 + ["GET", "PUT", "DELETE", "OPTIONS"]))
    headers = {"Content-Type": draw(plain_types)}
    origin = draw(st.sampled_from([None] * 6 + ["https://chatgpt.com", "https://evil.example"]))
    if origin is not None:
        headers["Origin"] = origin
    host = draw(st.sampled_from(HOSTS))
    if host is not None:
        headers["Host"] = host
    if draw(st.integers(0, 2)) == 0:  # a call that could work: a real tool, arguments that may fit
        call = draw(tool_calls)
        name, body = call["name"], dumps(call["arguments"])
    else:
        name, body = draw(names), draw(rest_bodies)
    path = f"/tools/{name}"
    return Req("rest", method, path, draw(credential_names), headers, None if method == "GET" else body)


queries = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=5).map(urlencode)


@st.composite
def schema_requests(draw: st.DrawFn) -> Req:
    path = draw(st.sampled_from(["/openapi.json"] * 4 + ["/openapi.yaml", "/docs", "/health"]))
    query = draw(queries | st.text(max_size=30).map(lambda t: quote(t, safe="=&")))
    method = draw(st.sampled_from(["GET"] * 5 + ["HEAD", "POST", "OPTIONS"]))
    return Req("schema", method, f"{path}?{query}" if query else path, draw(credential_names))


OAUTH_PATHS = (
    *OAUTH_ENDPOINTS,
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
)
FIELDS = OAUTH_FIELDS
REFRESH = "<refresh>"
"""Placeholder for a live refresh token (of a grant kept for this, so reuse detection may revoke it)."""
CLIENT = "<client>"
"""Placeholder for the client the test registered (its ``client_id``)."""
OWNER = "<owner-key>"
REDIRECT = "http://127.0.0.1:47123/callback"
field_values = text | st.sampled_from(
    [
        *("code", "S256", "plain", "authorization_code", "refresh_token", "approve", "deny", REDIRECT),
        *("https://x.example/cb", "https://chatgpt.com/connector_platform_oauth_redirect"),
        *(CLIENT, OWNER, REFRESH),
    ]
)
oauth_pairs = st.lists(st.tuples(st.sampled_from(FIELDS), field_values), max_size=8)
registrations = st.fixed_dictionaries(
    {},
    optional={
        "redirect_uris": st.lists(field_values | values, max_size=3) | values,
        "token_endpoint_auth_method": st.sampled_from(["none", "client_secret_post", "x"]) | values,
        "grant_types": values,
        "response_types": values,
        "scope": st.sampled_from(["write", "read write"]) | values,
        "client_name": values,
        "client_uri": values,
    },
)


FITTING = {"/authorize": ["GET", "POST"], "/token": ["POST"], "/register": ["POST"], "/revoke": ["POST"]}


@st.composite
def consent_steps(draw: st.DrawFn) -> Req:
    """A person at the consent page: the page loaded for the registered client, then its form posted
    with some fields changed (key, action, request token), then the code (if any) traded at ``/token``
    with some fields changed. ``Req.rpc`` carries the changes (see ``Sender.consent``)."""
    changes = {
        "authorize": draw(st.lists(st.tuples(st.sampled_from(FIELDS), field_values), max_size=2)),
        "key": draw(st.sampled_from([OWNER, OWNER, OWNER, "wrong", ""]) | text),
        "form": draw(
            st.lists(
                st.tuples(st.sampled_from(["action", "csrf_token", "request", "key"]), field_values),
                max_size=2,
            )
        ),
        "token": draw(st.lists(st.tuples(st.sampled_from(FIELDS), field_values), max_size=2)),
        "twice": draw(st.booleans()),
    }
    return Req("oauth", "FLOW", "/authorize", draw(credential_names), rpc=changes)


@st.composite
def oauth_requests(draw: st.DrawFn) -> Req:
    if draw(st.integers(0, 7)) == 0:
        return draw(consent_steps())
    path = draw(st.sampled_from(OAUTH_PATHS[:4] * 3 + OAUTH_PATHS[4:]))
    fitting = FITTING.get(path, ["GET"])
    unfitting = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS"]
    method = draw(st.sampled_from(fitting * 3 + unfitting))
    query = urlencode(draw(oauth_pairs))
    kind = draw(st.sampled_from(["form", "json", "raw"]))
    if kind == "form":
        body, ctype = urlencode(draw(oauth_pairs)).encode(), "application/x-www-form-urlencoded"
    elif kind == "json":
        body, ctype = dumps(draw(registrations | values)), "application/json"
    else:
        body, ctype = draw(st.binary(max_size=150)), draw(plain_types)
    return Req(
        "oauth",
        method,
        f"{path}?{query}" if query else path,
        draw(credential_names),
        {"Content-Type": ctype} | ({} if (host := draw(st.sampled_from(HOSTS))) is None else {"Host": host}),
        None if method in ("GET", "HEAD") else body,
    )
