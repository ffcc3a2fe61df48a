#!/usr/bin/env bash
# API conformance: checks that the server keeps the contract of docs/openapi.json (issue 15).
#
#   deploy/api-conformance.sh [extra `st run` options, e.g. --include-path-regex /v1/kb]
#
# 1. Installs its Python tools when missing, pinned, in a virtualenv of their own
#    ($CONFORMANCE_VENV, default ~/.cache/switchboard/api-conformance): schemathesis and
#    openapi-spec-validator (versions below).
# 2. Validates docs/openapi.json: OpenAPI 3.1 (openapi-spec-validator); schemathesis loads it too.
# 3. Starts the demo server ($SWITCHBOARD_BIN, default target/debug/switchboard: build it first
#    with `cargo build --bins`) on a free port of 127.0.0.1 with a throw-away SQLite file, and
#    stops it on exit, whatever happens (trap on EXIT; the temporary folder goes too).
# 4. Logs in as the demo supervisor (sam), admin (ada) and agents (alice, bob), creates web
#    visitors and signs an app user's token (the demo's app.jwt_secret), and makes data for the
#    fuzzer to find: three staff accounts to change and deactivate, a conversation, a task waiting for an agent, a customer merge, a routing override. Their ids,
#    the demo's knowledge-base entries and rule-set version go to schemathesis as dictionaries
#    (used for most generated values of those parameters), so operations that take an id reach
#    their handlers instead of only answering 404. alice and bob stay connected at their desks
#    over the agent WebSocket and accept offers, so tasks are offered and assigned during the run.
# 5. Runs schemathesis on every operation of docs/openapi.json (the file on disk, not the one
#    compiled into the binary) with the checks not_a_server_error, status_code_conformance,
#    content_type_conformance and response_schema_conformance, in all its phases (examples,
#    coverage, fuzzing, stateful). Who speaks: the admin on staff management, the supervisor on
#    the other staff endpoints (every eighth request an agent, every sixteenth an unknown token),
#    a freshly signed app token on each sign-out, a web visitor and the app user in turn
#    on the customer endpoints, an agent on /v1/ws/agent. The provider webhooks (SMS, IVR,
#    WeChat) are signed with the demo's channel secrets (config/demo.toml) for three requests in
#    four, so the fuzzer reaches their parsers and handlers; the fourth tests the refusals.
# 6. Prints a summary (operations, requests by status, operations that never answered 2xx, failed
#    checks) and exits non-zero on any failure or error.
#
# Bounded for a 2-core machine: CONFORMANCE_EXAMPLES test cases per operation and phase
# (default 100; about two minutes) and CONFORMANCE_TIMEOUT seconds for the whole fuzzing run
# (default 600). CONFORMANCE_SEED replays a run (its seed is printed at its end);
# CONFORMANCE_REPORT_DIR keeps the JUnit and NDJSON reports. Only loopback traffic: the server
# listens on 127.0.0.1 and nothing else is called.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0
SPEC=$ROOT/docs/openapi.json
BIN=${SWITCHBOARD_BIN:-target/debug/switchboard}
VENV=${CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/api-conformance}
EXAMPLES=${CONFORMANCE_EXAMPLES:-100}
TIMEOUT=${CONFORMANCE_TIMEOUT:-600}

step() { printf '\n== %s\n' "$*"; }

# --------------------------------------------------------------------------------------------
step "Python tools (schemathesis $SCHEMATHESIS_VERSION, openapi-spec-validator $SPEC_VALIDATOR_VERSION)"
installed() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" - "$SCHEMATHESIS_VERSION" "$SPEC_VALIDATOR_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("schemathesis"), version("openapi-spec-validator")) == tuple(sys.argv[1:]) else 1)
PY
}
if ! installed; then
  echo "Installing into $VENV ..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$SPEC_VALIDATOR_VERSION"
fi
PY=$VENV/bin/python
echo "ok: $("$VENV/bin/st" --version 2>&1 | head -n 1)"

# --------------------------------------------------------------------------------------------
step "Validate docs/openapi.json"
"$VENV/bin/openapi-spec-validator" "$SPEC"
"$PY" - "$SPEC" <<'PY'
import json, sys
version = json.load(open(sys.argv[1], encoding="utf-8"))["openapi"]
if not version.startswith("3.1."):
    sys.exit(f"docs/openapi.json declares OpenAPI {version}; it is written for 3.1")
print(f"ok: OpenAPI {version}")
PY

# --------------------------------------------------------------------------------------------
step "Demo server ($BIN)"
if [ ! -x "$BIN" ]; then
  echo "No server binary at $BIN: build it first (cargo build --bins) or set SWITCHBOARD_BIN." >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-conformance.XXXXXX")
SERVER_PID=
DESKS_PID=
cleanup() {
  local status=$?
  if [ -n "$DESKS_PID" ]; then kill "$DESKS_PID" 2>/dev/null || true; wait "$DESKS_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -s "$WORK/server.log" ]; then
    # The server's errors (a 5xx logs its cause), else how it ended.
    if grep -qE ' ERROR |panicked' "$WORK/server.log"; then
      echo "--- errors in the server log:" >&2
      grep -E ' ERROR |panicked' "$WORK/server.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -n 40 >&2
    else
      echo "--- last lines of the server log:" >&2
      tail -n 15 "$WORK/server.log" | sed 's/\x1b\[[0-9;]*m//g' >&2
    fi
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ready() {
  "$PY" - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}
# A port picked free can be taken before the server binds it: try again with another.
for attempt in 1 2 3; do
  PORT=$(free_port)
  "$BIN" demo --port "$PORT" --database-url "sqlite://$WORK/demo.db" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null || ready "$PORT"; then break; fi
    sleep 0.5
  done
  if kill -0 "$SERVER_PID" 2>/dev/null && ready "$PORT"; then break; fi
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  rm -f "$WORK"/demo.db*
  if [ "$attempt" = 3 ]; then
    echo "The demo server did not become ready:" >&2
    tail -n 30 "$WORK/server.log" >&2
    exit 1
  fi
done
BASE=http://127.0.0.1:$PORT
echo "ok: $BASE (pid $SERVER_PID)"

# --------------------------------------------------------------------------------------------
step "Tokens and test data"
cat >"$WORK/prepare.py" <<'PY'
"""Logs in, makes test data, and writes the schemathesis configuration and hooks."""
import base64, hashlib, hmac, json, sys, time, tomllib, urllib.error, urllib.request

base, work, root, examples = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def must(expected, answer, what):
    status, body = answer
    if status != expected:
        sys.exit(f"{what}: expected {expected}, got {status} {body}")
    return body


def login(username):
    return must(200, call("POST", "/v1/auth/login", {"username": username, "password": "demo"}), f"login {username}")["token"]


demo = tomllib.load(open(f"{root}/config/demo.toml", "rb"))


def app_token(secret, claims):
    """An app user's token as the app backend signs it: HS256 JWT."""
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    signed = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return signed + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


supervisor, agent, admin = login("sam"), login("alice"), login("ada")
# Accounts for the fuzzer to change and deactivate (never the demo's: their sign-ins speak).
staff_ids = [
    must(
        201,
        call(
            "POST",
            "/v1/staff",
            {"username": f"fuzz-{n}", "display_name": f"Fuzz {n}", "role": "agent", "password": "conformance-staff-password"},
            admin,
        ),
        f"staff fuzz-{n}",
    )["id"]
    for n in range(3)
]
app = app_token(
    demo["app"]["jwt_secret"],
    {"sub": "conformance-app-user", "exp": int(time.time()) + 7200, "name": "App User", "phone": "+8613800138123"},
)
must(200, call("GET", "/v1/me", token=app), "app token")
visitors = [must(201, call("POST", "/v1/visitors", {}), "visitor") for _ in range(6)]
for n, (visitor, text) in enumerate(zip(visitors, ["hello", "人工"])):
    must(202, call("POST", "/v1/messages", {"text": text, "client_id": f"fixture-{n}"}, visitor["visitor_token"]), "message")
# The second visitor asked for an agent: no agent is connected, so the task waits.
tasks = []
for _ in range(50):
    tasks = must(200, call("GET", "/v1/queues", token=supervisor), "queues")["tasks"]
    if tasks:
        break
    time.sleep(0.1)
# The third visitor (who has written nothing, so only one of the two has an open
# conversation) merged into the first one: a merge to undo. The last three, silent too, are
# there for the fuzzer to merge.
merge = must(
    201,
    call("POST", f"/v1/customers/{visitors[0]['customer_id']}/merge", {"from_customer_id": visitors[2]["customer_id"]}, supervisor),
    "merge",
)
override = must(
    201,
    call("POST", "/v1/routing/overrides", {"rule": "general", "target": {"queue": "general"}, "minutes": 60, "reason": "conformance"}, supervisor),
    "override",
)
kb_ids = [entry["id"] for entry in must(200, call("GET", "/v1/kb/entries", token=supervisor), "kb")["entries"]]
versions = [v["version"] for v in must(200, call("GET", "/v1/routing/rules/versions", token=supervisor), "versions")["versions"]]
customers = [v["customer_id"] for v in visitors]

# Two agents at their desks for the run (see desks.py): their logins.
with open(f"{work}/desks.json", "w", encoding="utf-8") as f:
    json.dump({"base": base, "tokens": [agent, login("bob")]}, f)

print(
    f"ok: supervisor, agent, visitor and app user tokens; {len(customers)} customers, {len(tasks)} waiting task(s), "
    f"merge {merge['merge_id']}, override {override['id']}, {len(kb_ids)} knowledge-base entries, rule versions {versions}"
)


def toml(value):
    return json.dumps(value, ensure_ascii=False)  # JSON strings and arrays are valid TOML


def operation(ids, parameters):
    """Parameters of these operations that take their values from a dictionary, with a probability."""
    bindings = ", ".join(f"{toml(k)} = {{ dictionary = {toml(d)}, probability = {p} }}" for k, (d, p) in parameters.items())
    return "\n".join(["", "[[operations]]", f"include-operation-id = {toml(ids)}", f"parameters = {{ {bindings} }}"])


dictionaries = {
    "customers": customers,
    "tasks": [t["task_id"] for t in tasks] or ["tsk_none"],
    "merges": [merge["merge_id"]],
    "overrides": [override["id"]],
    "kb_entries": kb_ids or ["none"],
    "versions": versions or [1],
    "visitor_ids": [v["visitor_id"] for v in visitors],
    "staff_ids": staff_ids,
    # Values the server accepts where a schema cannot say which (the demo's accounts, skills,
    # rules; CEL conditions), so generated documents are valid more often.
    "usernames": ["sam", "alice", "bob", "carol"],
    "passwords": ["demo"],
    "skills": ["billing", "refunds", "tech", "orders", "vip"],
    "conditions": [
        "true", "channel == 'web'", "channel == 'sms' || channel == 'ivr'", "intent == 'refund'",
        "tier == 'vip'", "'vip' in tags", "language == 'en'", "wait_secs > 60", "hour >= 9 && hour < 18",
        "weekday >= 6", "queue == 'general'", "intent == null",
    ],
    "questions": ["退款", "Where is my parcel?", "I want a refund", "human", "你好", "invoice", "thanks"],
}
config = [
    "# Written by deploy/api-conformance.sh for one run (the token of each request: hooks.py).",
    # One worker: with two, Hypothesis's lambda descriptions race in ast.parse on Python 3.11
    # ("AST constructor recursion depth mismatch", a tool error, not a finding).
    "workers = 1",
    "request-timeout = 30",
    f"hooks = {toml(work + '/hooks.py')}",
    "",
    "[cache]",
    "enabled = false",
    "",
    "[generation]",
    f"max-examples = {examples}",
    'database = "none"',
    "allow-x00 = false",
    "",
    "[phases.stateful]",
    "max-steps = 10",
    "",
    "[checks]",
    "enabled = false",
    "not_a_server_error = { enabled = true }",
    "status_code_conformance = { enabled = true }",
    "content_type_conformance = { enabled = true }",
    "response_schema_conformance = { enabled = true }",
    "",
    "[dictionaries]",
    *(f"{name} = {{ values = {toml(values)} }}" for name, values in dictionaries.items()),
    operation(["getCustomer", "customerMessages", "customerTickets"], {"path.id": ("customers", 0.7)}),
    operation(["mergeCustomers"], {"path.id": ("customers", 0.7), "body.from_customer_id": ("customers", 0.7)}),
    operation(["undoMerge"], {"path.merge_id": ("merges", 0.5)}),
    operation(["lookupCustomer"], {"query.external_id": ("visitor_ids", 0.5)}),
    operation(["taskRouting"], {"path.id": ("tasks", 0.7)}),
    operation(["endOverride"], {"path.id": ("overrides", 0.3)}),
    operation(["getKbEntry", "putKbEntry", "deleteKbEntry"], {"path.id": ("kb_entries", 0.7)}),
    operation(["ruleVersion", "activateRules", "dryRun"], {"path.version": ("versions", 0.7)}),
    operation(["patchStaff", "deactivateStaff"], {"path.id": ("staff_ids", 0.9)}),
    operation(["login"], {"body.username": ("usernames", 0.7), "body.password": ("passwords", 0.7)}),
    operation(
        ["createRules", "validateRules"],
        {
            "body.rules[*].when": ("conditions", 0.8),
            "body.rules[*].skills[*].name": ("skills", 0.9),
            "body.rules[*].overflow[*].skills[*].name": ("skills", 0.9),
        },
    ),
    operation(["createOverride"], {"body.target.skills[*].name": ("skills", 0.9)}),
    operation(["matchKb", "postMessage"], {"body.text": ("questions", 0.5)}),
]
with open(f"{work}/schemathesis.toml", "w", encoding="utf-8") as f:
    f.write("\n".join(config) + "\n")

# For the hooks: who speaks, the demo's channel secrets.
with open(f"{work}/hooks.json", "w", encoding="utf-8") as f:
    json.dump(
        {
            "base": base,
            "tokens": {"supervisor": supervisor, "agent": agent, "admin": admin, "visitor": visitors[0]["visitor_token"], "app": app},
            "app_secret": demo["app"]["jwt_secret"],
            "sms_token": demo["sms"]["auth_token"],
            "sms_public_url": demo["sms"].get("public_url", ""),
            "ivr_secret": demo["ivr"]["secret"],
            "wechat_token": demo["wechat"]["token"],
        },
        f,
    )
PY
"$PY" "$WORK/prepare.py" "$BASE" "$WORK" "$ROOT" "$EXAMPLES"

cat >"$WORK/hooks.py" <<'PY'
"""Who speaks (the token of each request), and what a schema cannot say: the provider webhooks
are signed as the demo's providers sign them, a PUT body gets the path's id, an override names
a rule of the set in force. One such request in four is left as generated, to test the
refusals."""
import base64, collections, hashlib, hmac, json, os, secrets, time, urllib.parse, urllib.request, uuid

import schemathesis
from schemathesis.core import NOT_SET

SECRETS = json.load(open(os.path.join(os.path.dirname(__file__), "hooks.json"), encoding="utf-8"))
TOKENS = SECRETS["tokens"]


def draw(case, salt=""):
    """A number 0-255 fixed by the case's data (the same case draws the same)."""
    seed = repr((salt, case.method, case.path, case.path_parameters, case.query, case.body)).encode("utf-8", "replace")
    return hashlib.sha256(seed).digest()[0]


def left_as_generated(case):
    return draw(case, "unsigned") % 4 == 0


# Customer endpoints: a web visitor or an app user (JWT), in turn; /v1/me: each kind of token
# in turn; the agent desk: an agent; staff management: the admin; sign-out: an app token minted
# for that request (so no token the run uses is signed out); the rest: the supervisor.
# Every eighth request of an operation speaks as an agent instead (the supervisors' endpoints
# answer 403) and every sixteenth has a token the server never issued (401).
CUSTOMER_OPERATIONS = {("POST", "/v1/messages"), ("GET", "/v1/conversations/current"), ("GET", "/v1/ws/customer")}
ADMIN_OPERATIONS = {
    ("POST", "/v1/staff"),
    ("PATCH", "/v1/staff/{id}"),
    ("POST", "/v1/staff/{id}/deactivate"),
    ("POST", "/v1/teams"),
}
SENT = collections.Counter()


def fresh_app_token():
    """An app user's token signed as the demo's app backend signs it, for one sign-out."""
    claims = {"sub": "conformance-logout", "exp": int(time.time()) + 600, "jti": uuid.uuid4().hex}
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    signed = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    mac = hmac.new(SECRETS["app_secret"].encode(), signed.encode(), hashlib.sha256).digest()
    return signed + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def authorize(case):
    key = (case.method.upper(), case.path)
    n = SENT[key]
    SENT[key] += 1
    if key in CUSTOMER_OPERATIONS:
        speaker = ("visitor", "app")[n % 2]
    elif key == ("GET", "/v1/me"):
        speaker = ("supervisor", "agent", "visitor", "app")[n % 4]
    elif key == ("GET", "/v1/ws/agent"):
        speaker = "agent"
    elif key == ("POST", "/v1/auth/logout"):
        speaker = "fresh"
    elif key in ADMIN_OPERATIONS:
        speaker = "agent" if n % 8 == 7 else "admin"
    else:
        speaker = "agent" if n % 8 == 7 else "supervisor"
    if n % 16 == 15:
        token = "not-a-token-of-this-server"
    elif speaker == "fresh":
        token = fresh_app_token()
    else:
        token = TOKENS[speaker]
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def sign_ivr(case):
    body = case.body
    if body is NOT_SET or body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    case.body = raw
    key = base64.b64decode(SECRETS["ivr_secret"].removeprefix("whsec_"))
    webhook_id, timestamp = f"evt_{uuid.uuid4().hex}", str(int(time.time()))
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    case.headers = {
        **(case.headers or {}),
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def sign_sms(case):
    fields = case.body if isinstance(case.body, dict) else {}
    pairs = [(str(name), text(value)) for name, value in fields.items()]
    case.body = urllib.parse.urlencode(pairs).encode()
    url = SECRETS["sms_public_url"].rstrip("/") + case.path
    mac = hmac.new(SECRETS["sms_token"].encode(), url.encode(), hashlib.sha1)
    for name, value in sorted(pairs):
        mac.update(name.encode() + value.encode())
    case.headers = {**(case.headers or {}), "X-Twilio-Signature": base64.b64encode(mac.digest()).decode()}


def sign_wechat(case):
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    signature = hashlib.sha1("".join(sorted([SECRETS["wechat_token"], timestamp, nonce])).encode()).hexdigest()
    query = {k: v for k, v in (case.query or {}).items() if k not in ("encrypt_type", "msg_signature", "openid")}
    query.update(timestamp=timestamp, nonce=nonce, signature=signature)
    if case.method == "POST" and isinstance(case.body, dict) and isinstance(case.body.get("FromUserName"), str):
        query["openid"] = case.body["FromUserName"]
    case.query = query


def align_kb_id(case):
    # PUT takes the entry's id from the path; a body naming another id is refused (422).
    if isinstance(case.body, dict) and "id" in case.body:
        case.body = {**case.body, "id": case.path_parameters.get("id")}


def active_rule(case):
    # An override names a rule of the rule set in force (the fuzzer activates other versions).
    if not isinstance(case.body, dict):
        return
    request = urllib.request.Request(
        SECRETS["base"] + "/v1/routing/rules", headers={"Authorization": f"Bearer {TOKENS['supervisor']}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        rules = json.load(response).get("rules") or []
    if rules:
        case.body = {**case.body, "rule": rules[draw(case, "rule") % len(rules)]["name"]}


ADJUSTMENTS = {
    ("POST", "/v1/channels/ivr/events"): sign_ivr,
    ("POST", "/v1/channels/sms"): sign_sms,
    ("POST", "/v1/channels/sms/status"): sign_sms,
    ("POST", "/v1/channels/wechat"): sign_wechat,
    ("GET", "/v1/channels/wechat"): sign_wechat,
    ("PUT", "/v1/kb/entries/{id}"): align_kb_id,
    ("POST", "/v1/routing/overrides"): active_rule,
}


@schemathesis.hook
def before_call(context, case, kwargs):
    authorize(case)
    adjust = ADJUSTMENTS.get((case.method.upper(), case.path))
    if adjust is not None and not left_as_generated(case):
        adjust(case)
PY

cat >"$WORK/desks.py" <<'PY'
"""Keeps two agents (alice, bob) available at their desks over the agent WebSocket, and
accepts what they are offered until each holds two conversations (later offers expire): the
dispatcher then offers and assigns tasks during the run, so queue figures list agents and
routing explanations have candidates and exclusions. A minimal RFC 6455 client."""
import base64, json, os, select, socket, struct, sys, urllib.parse

config = json.load(open(sys.argv[1], encoding="utf-8"))
url = urllib.parse.urlsplit(config["base"])


def connect(token):
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /v1/ws/agent HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            sys.exit("desk: the server closed the handshake")
        head += chunk
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        sys.exit(f"desk: no WebSocket: {head[:200]!r}")
    sock.settimeout(None)
    return sock


def send(sock, opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    header = bytes([0x80 | opcode]) + (
        bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else bytes([0x80 | 127]) + struct.pack(">Q", n)
    )
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


class Desk:
    def __init__(self, token):
        self.sock, self.buffer, self.holding = connect(token), b"", set()
        send(self.sock, 1, json.dumps({"type": "status", "status": "available"}).encode())

    def frames(self):
        while len(self.buffer) >= 2:
            opcode, n, at = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if n == 126:
                if len(self.buffer) < 4:
                    return
                n, at = struct.unpack(">H", self.buffer[2:4])[0], 4
            elif n == 127:
                if len(self.buffer) < 10:
                    return
                n, at = struct.unpack(">Q", self.buffer[2:10])[0], 10
            if len(self.buffer) < at + n:
                return
            payload, self.buffer = self.buffer[at : at + n], self.buffer[at + n :]
            yield opcode, payload

    def read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            sys.exit(0)
        self.buffer += chunk
        for opcode, payload in self.frames():
            if opcode == 9:  # ping
                send(self.sock, 10, payload)
            elif opcode == 8:  # close
                sys.exit(0)
            elif opcode == 1:
                event = json.loads(payload)
                kind = event.get("type")
                if kind == "offer" and len(self.holding) < 2:
                    send(self.sock, 1, json.dumps({"type": "accept", "task_id": event["task_id"]}).encode())
                elif kind == "assigned":
                    self.holding.add(event.get("conversation_id"))


desks = {desk.sock: desk for desk in (Desk(token) for token in config["tokens"])}
while True:
    ready, _, _ = select.select(list(desks), [], [], 30)
    for sock in ready:
        desks[sock].read()
PY
"$PY" "$WORK/desks.py" "$WORK/desks.json" >"$WORK/desks.log" 2>&1 &
DESKS_PID=$!
sleep 1
if ! kill -0 "$DESKS_PID" 2>/dev/null; then
  echo "The agent desks could not connect:" >&2
  cat "$WORK/desks.log" >&2
  exit 1
fi
echo "ok: alice and bob available at their desks (pid $DESKS_PID)"

# --------------------------------------------------------------------------------------------
step "Schemathesis: every operation, $EXAMPLES test cases per operation and phase, at most ${TIMEOUT}s"
REPORTS=${CONFORMANCE_REPORT_DIR:-$WORK/reports}
mkdir -p "$REPORTS"
REPORTS=$(cd "$REPORTS" && pwd)
SEED_ARGS=()
if [ -n "${CONFORMANCE_SEED:-}" ]; then SEED_ARGS=(--seed "$CONFORMANCE_SEED"); fi
set +e
# Run from the work folder: schemathesis keeps nothing in the repository.
(cd "$WORK" && timeout --signal=INT --kill-after=30 "$TIMEOUT" \
  "$VENV/bin/st" --config-file "$WORK/schemathesis.toml" run "$SPEC" --url "$BASE" \
  --no-color --report junit,ndjson --report-dir "$REPORTS" \
  --report-ndjson-path "$REPORTS/events.ndjson" --report-junit-path "$REPORTS/junit.xml" \
  "${SEED_ARGS[@]}" "$@")
ST_STATUS=$?
set -e
if [ "$ST_STATUS" = 124 ]; then echo "The fuzzing run took longer than ${TIMEOUT}s." >&2; fi

# --------------------------------------------------------------------------------------------
step "Summary"
set +e
"$PY" - "$REPORTS/events.ndjson" "$ST_STATUS" "$SPEC" <<'PY'
import collections, json, sys

path, status, spec = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3], encoding="utf-8"))
documented = {
    f"{method.upper()} {route}"
    for route, item in spec["paths"].items()
    for method in item
    if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace")
}
per_operation = collections.defaultdict(collections.Counter)  # operation -> status -> requests
failures = collections.Counter()
errors = []
cases = set()
other_methods = 0
try:
    lines = open(path, encoding="utf-8").readlines()
except OSError:
    lines = []
for line in lines:
    ((kind, data),) = json.loads(line).items()
    if kind == "NonFatalError":
        value = data.get("value") or {}
        errors.append(f"{data.get('label')}: {value.get('type')}: {value.get('message')}")
    if kind != "ScenarioFinished" or not data.get("recorder"):
        continue
    recorder = data["recorder"]
    known = recorder.get("cases") or {}

    def operation(case_id):
        value = (known.get(case_id) or {}).get("value") or {}
        return f"{value.get('method', '?').upper()} {value.get('path', '?')}"

    for case_id, interaction in (recorder.get("interactions") or {}).items():
        response = interaction.get("response")
        if response is None:
            continue
        label = operation(case_id)
        if label in documented:
            per_operation[label][response["status_code"]] += 1
            cases.add(case_id)
        else:
            other_methods += 1
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks:
            if check.get("status") == "failure":
                failures[(operation(case_id), check.get("name"))] += 1

by_status = collections.Counter()
for codes in per_operation.values():
    by_status.update(codes)
successful = {op for op, codes in per_operation.items() if any(200 <= code < 300 for code in codes)}
print(f"operations exercised:  {len(per_operation)} of {len(documented)} in docs/openapi.json")
missing = sorted(documented - set(per_operation))
if missing:
    print("  never exercised: " + ", ".join(missing))
print(f"requests:              {sum(by_status.values())} to documented operations "
      f"(+{other_methods} with methods the schema does not list, checked for 5xx only)")
print("answers by status:     " + ", ".join(f"{code}x{n}" for code, n in sorted(by_status.items())))
print(f"operations with a 2xx: {len(successful)}")
never = sorted(set(per_operation) - successful)
if never:
    print("operations that never answered 2xx (what they answered):")
    for label in never:
        print(f"  - {label}: " + ", ".join(f"{code}x{n}" for code, n in sorted(per_operation[label].items())))
if failures:
    print("failed checks:")
    for (label, name), n in sorted(failures.items()):
        print(f"  - {label}: {name} x{n}")
if errors:
    print("errors (the run could not test something):")
    for error in errors:
        print(f"  - {error}")
if status == 0 and not failures and not errors and per_operation:
    print("RESULT: PASS (0 failures)")
    sys.exit(0)
print(f"RESULT: FAIL (schemathesis exit status {status}, {sum(failures.values())} failed check(s), {len(errors)} error(s))")
sys.exit(1)
PY
SUMMARY_STATUS=$?
set -e
[ "$ST_STATUS" = 0 ] && [ "$SUMMARY_STATUS" = 0 ]
