#!/usr/bin/env python3
"""Check an Open Badges 3.0 credential issued as a VC-JWT, with outside tools.

Usage: check_openbadge.py TOKEN_FILE JWKS_FILE [--kid-jwk KID_JWK_FILE]

TOKEN_FILE holds the compact JWS, JWKS_FILE the issuer's published JWK set
({"keys": [...]}), and KID_JWK_FILE, if given, the JWK that the token's `kid`
URL dereferenced to. The checks, after OB 3.0 section 8.2 (JWT proof format):

  - the protected header holds only `alg`, `kid`, optionally `jwk`, and `typ`
    only as "JWT"; `alg` is ES256 or RS256;
  - the key named by `kid` is in the JWK set (and is the same key as the
    --kid-jwk file and any header `jwk`), and the signature verifies with it
    under joserfc, an independent JOSE implementation (no crypto of our own);
  - the registered claims match the credential: iss = issuer.id, jti = id,
    sub = credentialSubject.id, nbf = validFrom and exp = validUntil as Unix
    seconds;
  - the payload validates against the vendored official 1EdTech JSON Schema
    (ob_v3p0_achievementcredential_schema.json beside this file) under
    Draft 2019-09 with format checking;
  - `credentialStatus` is exactly one object, not an array.

Every problem is printed on its own line, starting with the JSON path it is
about ($header... for the JOSE header, $... for the payload). Prints "ok" and
exits 0 when all pass, exits 1 otherwise (2 on bad usage).

Needs only the standard library, jsonschema and joserfc
(tests/validators/requirements.txt).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from jsonschema import Draft201909Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parent / "ob_v3p0_achievementcredential_schema.json"

ALGORITHMS = ("ES256", "RS256")
HEADER_FIELDS = {"alg", "kid", "jwk", "typ"}
# The JWT registered claims OB 3.0 section 8.2 adds next to the credential.
REGISTERED_CLAIMS = ("iss", "jti", "sub", "nbf", "exp", "iat")
# The key type (and curve) each accepted algorithm needs.
KEY_TYPES = {"ES256": ("EC", "P-256"), "RS256": ("RSA", None)}

# RFC 3339 section 5.6 date-time, checked with the standard library so the
# schema's "format": "date-time" is enforced whatever optional jsonschema
# format packages happen to be installed.
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True  # "format" applies to strings only
    if not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checks("date-time")(is_rfc3339)
    return checker


class Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.lines.append(f"{path}: {message}")


def b64url_json(part: str, path: str, problems: Problems) -> Any:
    """A base64url (unpadded) JSON value, or None after reporting why not."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", part):
        problems.add(path, "not unpadded base64url")
        return None
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError) as err:
        problems.add(path, f"not base64url JSON ({err})")
        return None


def load_json(path: str, what: str, problems: Problems) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        problems.add("$", f"cannot read the {what} {path}: {err}")
        return None


def check_header(header: dict[str, Any], problems: Problems) -> None:
    for name in sorted(set(header) - HEADER_FIELDS):
        problems.add(f"$header.{name}", "not allowed in the JOSE header (only alg, kid, jwk, typ)")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        problems.add("$header.alg", f"{alg!r} is not one of {', '.join(ALGORITHMS)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        problems.add("$header.kid", "missing or not a non-empty string")
    if "typ" in header and header["typ"] != "JWT":
        problems.add("$header.typ", f"{header['typ']!r}; only \"JWT\" is allowed")
    if "jwk" in header and not isinstance(header["jwk"], dict):
        problems.add("$header.jwk", "not a JSON object")


def import_public(jwk: Any, path: str, problems: Problems):
    """A joserfc key from a public JWK, or None after reporting why not."""
    if not isinstance(jwk, dict):
        problems.add(path, "not a JWK object")
        return None
    if any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi")):
        problems.add(path, "holds private key material")
    try:
        return JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError) as err:
        problems.add(path, f"not a usable JWK ({err})")
        return None


def find_key(header: dict[str, Any], jwks: Any, problems: Problems):
    kid = header.get("kid")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        problems.add("$jwks.keys", "the JWK set has no keys array")
        return None
    matches = [i for i, k in enumerate(keys) if isinstance(k, dict) and k.get("kid") == kid]
    if not matches:
        problems.add("$header.kid", f"{kid!r} names no key in the JWK set")
        return None
    if len(matches) > 1:
        problems.add("$header.kid", f"{kid!r} names {len(matches)} keys in the JWK set")
        return None
    index = matches[0]
    jwk = keys[index]
    path = f"$jwks.keys[{index}]"
    alg = header.get("alg")
    if alg in KEY_TYPES:
        kty, crv = KEY_TYPES[alg]
        if jwk.get("kty") != kty or (crv and jwk.get("crv") != crv):
            problems.add(path, f"key type {jwk.get('kty')}/{jwk.get('crv')} does not fit alg {alg}")
        if "alg" in jwk and jwk["alg"] != alg:
            problems.add(f"{path}.alg", f"{jwk['alg']!r} differs from the token's alg {alg!r}")
    if "use" in jwk and jwk["use"] != "sig":
        problems.add(f"{path}.use", f"{jwk['use']!r}; a signing key must have use \"sig\"")
    return import_public(jwk, path, problems)


def same_key(key, other_jwk: Any, path: str, problems: Problems) -> None:
    """Reports when other_jwk is not the same public key (RFC 7638 thumbprint)."""
    if isinstance(other_jwk, dict) and isinstance(other_jwk.get("keys"), list):
        if len(other_jwk["keys"]) != 1:
            problems.add(path, "holds a key set, not exactly one JWK")
            return
        other_jwk = other_jwk["keys"][0]
    other = import_public(other_jwk, path, problems)
    if other is not None and other.thumbprint() != key.thumbprint():
        problems.add(path, "is not the same key as the JWK set's key for this kid")


def verify_signature(token: str, key, alg: str, problems: Problems) -> None:
    try:
        jws.deserialize_compact(token, key, algorithms=[alg])
    except JoseError as err:
        detail = err.description or err.error
        problems.add("$signature", f"does not verify with the kid's key ({detail})")


def unix_seconds(value: Any) -> int | None:
    if not isinstance(value, str) or not is_rfc3339(value):
        return None
    moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())  # fractions dropped: NumericDate in whole seconds


def id_of(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("id")
    return value


def check_claims(vc: dict[str, Any], problems: Problems) -> None:
    pairs = [
        ("iss", "$.issuer.id", id_of(vc.get("issuer"))),
        ("jti", "$.id", vc.get("id")),
        ("sub", "$.credentialSubject.id", id_of(vc.get("credentialSubject"))),
    ]
    for claim, source, expected in pairs:
        if claim not in vc:
            problems.add(f"$.{claim}", f"missing; OB 3.0 section 8.2 requires it ({source})")
        elif expected is None:
            problems.add(source, f"missing, so the {claim} claim has nothing to match")
        elif vc[claim] != expected:
            problems.add(f"$.{claim}", f"{vc[claim]!r} differs from {source} {expected!r}")

    for claim, source in (("nbf", "validFrom"), ("exp", "validUntil")):
        present = claim in vc
        if source not in vc:
            if claim == "nbf" and present:
                problems.add(f"$.{source}", "missing, so the nbf claim has nothing to match")
            elif claim == "exp" and present:
                problems.add("$.exp", "present but the credential has no validUntil")
            continue
        expected = unix_seconds(vc[source])
        if expected is None:
            problems.add(f"$.{source}", f"{vc[source]!r} is not an RFC 3339 date-time with offset")
        elif not present:
            problems.add(f"$.{claim}", f"missing; must be {source} as Unix seconds ({expected})")
        elif isinstance(vc[claim], bool) or not isinstance(vc[claim], (int, float)):
            problems.add(f"$.{claim}", f"{vc[claim]!r} is not a NumericDate")
        elif int(vc[claim]) != expected or vc[claim] != int(vc[claim]):
            problems.add(f"$.{claim}", f"{vc[claim]!r} differs from {source} as Unix seconds ({expected})")


def short(value: Any) -> str:
    """A value for a one-line message: its JSON, cut to 60 characters."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_schema(vc: dict[str, Any], problems: Problems) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft201909Validator.check_schema(schema)
    instance = vc
    if schema.get("additionalProperties") is False:
        # The registered claims are not credential properties; strip them only
        # if the schema would refuse them (the official one does not).
        instance = {k: v for k, v in vc.items() if k not in REGISTERED_CLAIMS}
    validator = Draft201909Validator(schema, format_checker=format_checker())
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        message = error.message.replace(repr(error.instance), short(error.instance))
        problems.add(error.json_path, f"schema: {message} (at {'/'.join(map(str, error.absolute_schema_path))})")


def check_status(vc: dict[str, Any], problems: Problems) -> None:
    status = vc.get("credentialStatus")
    if status is None:
        problems.add("$.credentialStatus", "missing; exactly one credentialStatus object is required")
    elif isinstance(status, list):
        problems.add(
            "$.credentialStatus",
            f"an array of {len(status)} entries; exactly one credentialStatus object is required",
        )
    elif not isinstance(status, dict):
        problems.add("$.credentialStatus", "not a JSON object")


def check(token: str, jwks: Any, kid_jwk: Any | None, problems: Problems) -> None:
    parts = token.split(".")
    if len(parts) != 3:
        problems.add("$token", f"a compact JWS has 3 dot-separated parts, this has {len(parts)}")
        return
    header = b64url_json(parts[0], "$header", problems)
    payload = b64url_json(parts[1], "$", problems)
    if not parts[2] or not re.fullmatch(r"[A-Za-z0-9_-]+", parts[2]):
        problems.add("$signature", "missing or not unpadded base64url")
    if header is not None and not isinstance(header, dict):
        problems.add("$header", "not a JSON object")
        header = None
    if payload is not None and not isinstance(payload, dict):
        problems.add("$", "the payload is not a JSON object")
        payload = None

    if header is not None:
        check_header(header, problems)
        key = find_key(header, jwks, problems)
        if key is not None:
            if kid_jwk is not None:
                same_key(key, kid_jwk, "$kid_jwk", problems)
            if isinstance(header.get("jwk"), dict):
                same_key(key, header["jwk"], "$header.jwk", problems)
            if header.get("alg") in ALGORITHMS:
                verify_signature(token, key, header["alg"], problems)

    if payload is not None:
        check_claims(payload, problems)
        check_schema(payload, problems)
        check_status(payload, problems)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("token_file")
    parser.add_argument("jwks_file")
    parser.add_argument("--kid-jwk", dest="kid_jwk_file")
    args = parser.parse_args(argv)

    problems = Problems()
    try:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    except OSError as err:
        problems.add("$token", f"cannot read {args.token_file}: {err}")
        token = None
    jwks = load_json(args.jwks_file, "JWK set", problems)
    kid_jwk = load_json(args.kid_jwk_file, "kid JWK", problems) if args.kid_jwk_file else None
    if token is not None and jwks is not None and (kid_jwk is not None or not args.kid_jwk_file):
        check(token, jwks, kid_jwk, problems)

    if problems.lines:
        for line in problems.lines:
            print(line)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
