"""Validates in-toto statements with the in-toto attestation framework's own
Python bindings (PyPI in-toto-attestation==0.9.3).

Usage: python validate.py STATEMENT.json...

Each file must be an in-toto Statement v1 whose predicate is a SLSA
Verification Summary (https://slsa.dev/verification_summary/v1). Prints one
line per file and exits 1 at the first that fails.
"""

import json
import re
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

VSA = "https://slsa.dev/verification_summary/v1"


def string_map(value, what):
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{what} must be a non-empty map of strings: {value!r}")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str) or not v:
            raise ValueError(f"{what} must map strings to strings: {value!r}")


def check(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()

    # The statement: parsed by the framework's proto (json_format.Parse
    # without ignore_unknown_fields refuses a field it does not know), then
    # the framework's own validate().
    pb = json_format.Parse(text, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()

    doc = json.loads(text)
    if doc["predicateType"] != VSA:
        raise ValueError(f"predicateType is {doc['predicateType']!r}, not {VSA}")
    predicate = dict(doc["predicate"])

    # in-toto-attestation 0.9.3's vsa.proto types verifiedLevels as one
    # string, where the SLSA spec (v1.0) says a list of strings; the
    # statement follows the spec, so the list is taken out before the proto
    # parse and checked here: strings, and no custom value starting with
    # SLSA_ (the spec keeps those for its own levels).
    levels = predicate.pop("verifiedLevels")
    if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels):
        raise ValueError(f"verifiedLevels must be a list of strings: {levels!r}")
    for v in levels:
        if v.startswith("SLSA_") and not re.fullmatch(r"SLSA_(BUILD|SOURCE)_LEVEL_[0-4]", v):
            raise ValueError(f"verifiedLevels holds a custom SLSA_ value: {v!r}")

    # Likewise the 0.9.3 proto's Verifier has only id, where the spec also
    # has version (a map of software components to their versions): taken
    # out before the parse and checked here.
    verifier = dict(predicate["verifier"])
    string_map(verifier.pop("version"), "verifier.version")
    predicate["verifier"] = verifier

    # The rest, by the framework's VerificationSummary proto; again any
    # field the proto does not know is refused.
    vsa = json_format.ParseDict(predicate, vsa_pb2.VerificationSummary())
    # The fields the spec requires, with their values' shapes.
    if not vsa.verifier.id:
        raise ValueError("verifier.id is required")
    if not vsa.HasField("time_verified") or vsa.time_verified.seconds <= 0:
        raise ValueError("timeVerified is required")
    if not vsa.resource_uri:
        raise ValueError("resourceUri is required")
    if not vsa.policy.uri:
        raise ValueError("policy.uri is required")
    if vsa.policy.digest:
        string_map(dict(vsa.policy.digest), "policy.digest")
    for i, a in enumerate(vsa.input_attestations):
        if not a.uri:
            raise ValueError(f"inputAttestations[{i}].uri is required")
        string_map(dict(a.digest), f"inputAttestations[{i}].digest")
    if vsa.verification_result not in ("PASSED", "FAILED"):
        raise ValueError(f"verificationResult is {vsa.verification_result!r}")
    if not vsa.slsa_version:
        raise ValueError("slsaVersion is required")
    print(f"{path}: valid ({vsa.verification_result})")


def main(paths):
    if not paths:
        print("usage: validate.py STATEMENT.json...", file=sys.stderr)
        return 2
    for p in paths:
        try:
            check(p)
        except Exception as e:  # any failure of any file fails the run
            print(f"{p}: invalid: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
