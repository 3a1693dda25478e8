#!/usr/bin/python3
"""forge-jwt.py - make hostile JSON Web Tokens for the token-attack tests.

Standard library only (hmac, hashlib, base64, json), so a test can forge
exactly the token it means without trusting the daemon's own JWT code:

  forge-jwt.py sign [--alg ALG] [--header-alg NAME] [--key-file F |
                    --key-hex HEX] CLAIMS
      A token whose payload is CLAIMS (a JSON object, written compactly
      and in the given order). ALG is how the signature is made: HS256
      (default), HS384, HS512 or none (an empty signature). The header
      says {"alg":NAME,"typ":"JWT"}, NAME defaulting to ALG, so
      "--alg HS256 --header-alg none" is an unsigned-looking token that
      nevertheless carries a valid HS256 signature. --key-file reads the
      raw key bytes (the daemon's data/jwt.key); --key-hex "" is the
      empty key.
  forge-jwt.py claims TOKEN
      The token's payload as compact JSON (no signature check).
  forge-jwt.py tamper TOKEN PATCH
      The same token with its payload replaced by the original claims
      updated with PATCH (a JSON object), header and signature kept.

It deliberately does no verification: deciding what a token is worth is
the daemon's job, and the tests' assertions.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys

DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
           "HS512": hashlib.sha512}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def signature(alg, key, signing_input):
    if alg == "none":
        return ""
    mac = hmac.new(key, signing_input.encode("ascii"), DIGESTS[alg])
    return b64url(mac.digest())


def load_object(text, what):
    try:
        obj = json.loads(text)
    except ValueError as e:
        sys.exit("forge-jwt: %s is not JSON: %s" % (what, e))
    if not isinstance(obj, dict):
        sys.exit("forge-jwt: %s must be a JSON object" % what)
    return obj


def cmd_sign(args):
    if args.key_file is not None:
        with open(args.key_file, "rb") as f:
            key = f.read()
    elif args.key_hex is not None:
        key = bytes.fromhex(args.key_hex)
    elif args.alg != "none":
        sys.exit("forge-jwt: %s needs --key-file or --key-hex" % args.alg)
    else:
        key = b""
    claims = load_object(args.claims, "CLAIMS")
    header = {"alg": args.header_alg or args.alg, "typ": "JWT"}
    signing_input = b64url(compact(header)) + "." + b64url(compact(claims))
    print(signing_input + "." + signature(args.alg, key, signing_input))


def split(token):
    parts = token.split(".")
    if len(parts) != 3:
        sys.exit("forge-jwt: a token has 3 parts, not %d" % len(parts))
    return parts


def cmd_claims(args):
    payload = split(args.token)[1]
    sys.stdout.buffer.write(compact(json.loads(unb64url(payload))) + b"\n")


def cmd_tamper(args):
    header, payload, sig = split(args.token)
    claims = json.loads(unb64url(payload))
    claims.update(load_object(args.patch, "PATCH"))
    print(header + "." + b64url(compact(claims)) + "." + sig)


def main():
    p = argparse.ArgumentParser(prog="forge-jwt.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    s.add_argument("--alg", default="HS256",
                   choices=sorted(DIGESTS) + ["none"])
    s.add_argument("--header-alg")
    k = s.add_mutually_exclusive_group()
    k.add_argument("--key-file")
    k.add_argument("--key-hex")
    s.add_argument("claims")
    s.set_defaults(fn=cmd_sign)
    c = sub.add_parser("claims")
    c.add_argument("token")
    c.set_defaults(fn=cmd_claims)
    t = sub.add_parser("tamper")
    t.add_argument("token")
    t.add_argument("patch")
    t.set_defaults(fn=cmd_tamper)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
