#!/usr/bin/env python3
"""A receiver of meow's signed incident webhooks (docs/incidents.md#the-generic-webhook).

    MEOW_WEBHOOK_SECRET=whsec_... python3 examples/incidents/receiver.py --port 18090

Checks the Standard Webhooks signature (HMAC-SHA256 over "id.timestamp.body"), refuses deliveries older
than 5 minutes, drops repeats of a webhook-id (meow keeps the id when it retries), and prints one line
per incident event. Standard library only.
"""
import argparse, base64, hashlib, hmac, http.server, json, os, sys, time

TOLERANCE = 300
seen = set()


def key(secret):
    return base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()


def verify(secret, msg_id, timestamp, body, header):
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    expected = base64.b64encode(hmac.new(key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for entry in header.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        msg_id = self.headers.get("webhook-id", "")
        ok = verify(os.environ["MEOW_WEBHOOK_SECRET"], msg_id, self.headers.get("webhook-timestamp", "0"), body,
                    self.headers.get("webhook-signature", ""))
        if not ok:
            self.send_response(401)
            self.end_headers()
            print(f"refused {msg_id}: bad signature or too old", flush=True)
            return
        self.send_response(200)
        self.end_headers()
        if msg_id in seen:
            print(f"repeat {msg_id}: already handled", flush=True)
            return
        seen.add(msg_id)
        event = json.loads(body)
        data = event["data"]
        print(f"verified {msg_id}: {event['type']} {data['number']} [{data['severity']}] {data['title']}", flush=True)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()
    server = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
