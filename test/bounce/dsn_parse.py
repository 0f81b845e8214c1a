"""Parse a MIME message on stdin with Python's email package; print its structure as JSON.

Used by dsn_notice.test.ts to check notices with a real MIME parser;
test/integration/read_mail.py imports part() for the mail it reads.
"""
import email
import email.policy
import json
import sys


def headers(m):
    return [[k, str(v)] for k, v in m.items()]


def part(m):
    out = {
        "type": m.get_content_type(),
        "params": dict((k.lower(), v) for k, v in m.get_params() or [] if v != ""),
        "headers": headers(m),
        "defects": [type(d).__name__ for d in m.defects],
    }
    if m.is_multipart():
        payload = m.get_payload()
        if m.get_content_type() == "message/delivery-status":
            out["blocks"] = [headers(b) for b in payload]
        elif m.get_content_maintype() == "message":
            out["message"] = part(payload[0])
        else:
            out["parts"] = [part(p) for p in payload]
    else:
        data = m.get_payload(decode=True) or b""
        out["text"] = data.decode("utf-8", "surrogateescape")
    return out


if __name__ == "__main__":
    msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.compat32)
    print(json.dumps(part(msg)))
