#!/usr/bin/env python3
"""The phones and the operator of scripts/cluster-demo.sh, through nginx.

Talks to plaza-server's API (docs/server.md) as a phone client does: a JWT of
the embedding app's sign-in service (HS256) on every request, and the user id
in `X-Plaza-User` too, which nginx hashes to pick the user's node. Patients
book the maternity hospital's earliest appointment and pay its deposit; in
the middle one patient's node is killed (SIGKILL) while her payment prompt
waits, and she carries on through another node. Then it checks that nothing
was lost and prints `cluster demo: nothing lost`, or exits 1 saying what is
missing.

    cluster-demo-client.py BASE_URL HS256_SECRET ADMIN_TOKEN PACKAGE PUBLIC_KEY_HEX NODE=PID...
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

HOSPITAL = "cn.hz.maternity"
PATIENTS = ["li-na", "wang-fang", "zhang-min", "liu-yang", "chen-jie", "zhao-lei"]
# The patient whose node is killed while her deposit's payment prompt waits.
VICTIM = "liu-yang"
TOP_UP = 100_000
DEPOSIT = 5_000


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret, sub):
    """An HS256 JWT of the issuer `citizen-app` for `sub`, for an hour."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"iss": "citizen-app", "sub": sub, "exp": int(time.time()) + 3600}
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64url(signature.digest())}"


class Client:
    """One phone (or the operator): a bearer token and the user key nginx hashes."""

    def __init__(self, base, bearer, user_key):
        self.base = base
        self.bearer = bearer
        self.user_key = user_key
        # The node that answered the last request (nginx's X-Plaza-Node).
        self.node = None

    def call(self, method, path, body=None, raw=None):
        data, content_type = None, None
        if raw is not None:
            data, content_type = raw, "application/octet-stream"
        elif body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("authorization", f"Bearer {self.bearer}")
        req.add_header("x-plaza-user", self.user_key)
        if content_type:
            req.add_header("content-type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, text, headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, text, headers = e.code, e.read(), e.headers
        self.node = headers.get("x-plaza-node")
        try:
            value = json.loads(text) if text else None
        except ValueError:
            value = text.decode(errors="replace")
        return status, value

    def ok(self, method, path, body=None, raw=None):
        status, value = self.call(method, path, body, raw)
        if status != 200:
            fail(f"{method} {path}: {status} {value}")
        return value


def fail(why):
    print(f"cluster demo: FAILED: {why}", flush=True)
    sys.exit(1)


def field(page, label):
    for b in page.get("blocks", []):
        if b.get("type") == "field" and b.get("label") == label:
            return b.get("value")
    return None


def answer_for(prompt):
    return {"consent": "allow", "subscription": "accept", "payment": "confirm"}[prompt["kind"]]


class Phone(Client):
    def event(self, event, stop_at_prompt=None):
        """Sends an event and answers its prompts until a page comes; with
        `stop_at_prompt` (a prompt kind), returns that prompt unanswered."""
        status, v = self.call("POST", f"/v1/apps/{HOSPITAL}/events", event)
        while True:
            if status != 200:
                return status, v
            if "prompt" not in v:
                return status, v
            p = v["prompt"]
            if p["kind"] == stop_at_prompt:
                return status, v
            status, v = self.call("POST", f"/v1/prompts/{p['id']}", {"answer": answer_for(p)})

    def page(self, event):
        status, v = self.event(event)
        if status != 200 or "page" not in v:
            fail(f"{self.user_key}: {event} answered {status} {v}")
        return v["page"]


def say(line):
    print(line, flush=True)


def main():
    base, secret, admin, package, public_key = sys.argv[1:6]
    pids = dict(arg.split("=", 1) for arg in sys.argv[6:])
    node_names = {addr: f"node{i + 1}" for i, addr in enumerate(pids)}

    def name(addr):
        # nginx lists every node it tried: "127.0.0.1:1, 127.0.0.1:2".
        tried = [a.strip() for a in (addr or "").split(",") if a.strip()]
        return " then ".join(node_names.get(a, a) for a in tried) or "?"

    op = Client(base, admin, "operator")
    op.ok("POST", "/v1/admin/publishers", {
        "id": "cn.hz.hospitals.maternity", "name": "Hangzhou Maternity Hospital",
        "category": "medical", "verified": True, "public_key": public_key})
    with open(package, "rb") as f:
        installed = op.ok("POST", "/v1/admin/packages", raw=f.read())
    say(f"installed {installed['app_id']} through {name(op.node)} (signed: {installed['signed']})")
    for sub in PATIENTS:
        user = f"citizen-app:{sub}"
        op.ok("PUT", f"/v1/admin/users/{user}/profile", {
            "nickname": sub, "phone": "13800138000",
            "real_name": {"name": sub.replace("-", " ").title(),
                          "id_number": "330106199001010022", "verified": True}})
        op.ok("POST", f"/v1/admin/wallets/{user}/top-up", {"amount": TOP_UP, "currency": "CNY"})

    killed = None
    for sub in PATIENTS:
        phone = Phone(base, token(secret, sub), sub)
        home = phone.page({"launch": {"path": "/", "query": {}}})
        served_by = name(phone.node)
        phone.page({"tap": "dept:obstetrics"})
        phone.page({"tap": "doctor:chen-li"})
        phone.page({"tap": "earliest:chen-li"})
        done = phone.page({"submit": {"form": "patient", "fields": {"name": sub, "phone": "13800138000"}}})
        number = field(done, "Booking number")
        if done.get("title") != "Booking confirmed" or not number:
            fail(f"{sub}: the booking was not confirmed: {done}")
        if sub != VICTIM:
            deposit = phone.page({"tap": f"deposit:{number}"})
            say(f"{sub}: {home['title']} on {served_by}; booked {number}; deposit {field(deposit, 'Paid by you')} through {name(phone.node)}")
            continue
        # The payment prompt waits on her node: kill it there.
        status, v = phone.event({"tap": f"deposit:{number}"}, stop_at_prompt="payment")
        if status != 200 or "prompt" not in v:
            fail(f"{sub}: no payment prompt for the deposit: {status} {v}")
        node = (phone.node or "").split(",")[-1].strip()
        if node not in pids:
            fail(f"{sub}: the prompt came from {phone.node}, not a known node")
        os.kill(int(pids[node]), signal.SIGKILL)
        killed = node
        say(f"{sub}: booked {number} on {served_by}; the deposit's payment prompt waits there: killed {name(node)} (SIGKILL)")
        # Her answer reaches another node: the prompt died with its node, and
        # nothing was paid. (nginx may first send it down a connection it
        # kept to the dead node, and answer 502 without trying another node:
        # a POST may not be sent twice. The phone tries again.)
        prompt_id = v["prompt"]["id"]
        for _ in range(10):
            status, v = phone.call("POST", f"/v1/prompts/{prompt_id}", {"answer": "confirm"})
            if status not in (502, 503, 504):
                break
            say(f"{sub}: the answer to that prompt: {status} from nginx ({name(phone.node)}); she tries again")
            time.sleep(0.5)
        kind = v["error"]["kind"] if isinstance(v, dict) and "error" in v else v
        say(f"{sub}: the answer to that prompt went to {name(phone.node)}: {status} {kind}")
        if status == 200:
            fail(f"{sub}: a prompt of the killed node was answered on another")
        wallet = phone.ok("GET", "/v1/me/wallet")
        if wallet["balance_minor"] != TOP_UP:
            fail(f"{sub}: money moved without a confirmed payment: {wallet}")
        say(f"{sub}: her wallet still holds {wallet['balance']}: nothing was paid")
        # The same patient carries on: her booking is in the store, not in
        # the dead node; the new node shows it and takes the deposit.
        bookings = phone.page({"launch": {"path": "/bookings", "query": {}}})
        phone.page({"tap": f"booking:{number}"})
        deposit = phone.page({"tap": f"deposit:{number}"})
        say(f"{sub}: on {name(phone.node)} her bookings show {number}; deposit {field(deposit, 'Paid by you')}")
        if bookings.get("title") != "My bookings":
            fail(f"{sub}: no bookings page: {bookings}")

    if killed is None:
        fail("no node was killed")

    # Nothing lost: every patient's booking and one deposit each, the
    # ledger clean, all read through the surviving nodes.
    problems = []
    for sub in PATIENTS:
        phone = Phone(base, token(secret, sub), sub)
        page = phone.page({"launch": {"path": "/bookings", "query": {}}})
        actions = [b.get("action") for b in page.get("blocks", []) if b.get("type") == "item"]
        if "booking:B0001" not in actions:
            problems.append(f"{sub}: booking B0001 is not in her bookings ({actions})")
        wallet = phone.ok("GET", "/v1/me/wallet?limit=50")
        payments = [e for e in wallet["history"] if e["kind"] == "payment"]
        if len(payments) != 1:
            problems.append(f"{sub}: {len(payments)} payments in her wallet, expected her one deposit: {payments}")
        if wallet["balance_minor"] != TOP_UP - DEPOSIT:
            problems.append(f"{sub}: her wallet holds {wallet['balance_minor']}, expected {TOP_UP - DEPOSIT}")
    verify = op.ok("GET", "/v1/admin/ledger/verify")
    report = verify["report"]
    if not verify["clean"]:
        problems.append(f"ledger verify: {report}")
    if report.get("payments") != len(PATIENTS):
        problems.append(f"ledger: {report.get('payments')} payments, expected {len(PATIENTS)}")
    say(f"ledger verify through {name(op.node)}: clean = {str(verify['clean']).lower()}, {report.get('payments')} payments")
    if problems:
        fail("; ".join(problems))
    say(f"cluster demo: nothing lost ({len(PATIENTS)} patients booked, {len(PATIENTS)} deposits paid once each, {name(killed)} killed mid-payment)")


if __name__ == "__main__":
    main()
