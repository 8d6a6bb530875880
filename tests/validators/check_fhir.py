"""Validates a FHIR R4 (4.0.1) JSON resource against the R4 structure
definitions, for the integration tests: python check_fhir.py FILE.

The structure is checked by the `fhir.resources` models (pinned in
requirements.txt to 6.4.0, the last release whose top-level models are R4
4.0.1): element names, cardinality, data types and primitive formats, in
contained resources and Bundle entries too. On top of that, this script
checks what those models leave out and our output relies on: the codes of the
required value-set bindings we use, FHIR JSON's ban on null and on empty
strings, arrays and objects, and that every local reference ("#id") resolves
to a contained resource.

Supported resource types: ServiceRequest, Bundle, CapabilityStatement,
OperationOutcome. Prints one line per problem, each naming the element, and
exits 1 when there is any (2 when the file or the validator cannot be read).
"""

import importlib
import json
import sys


def load_r4_models():
    """fhir.resources 6.4.0 is written for pydantic 1; other validators in
    the same environment need pydantic 2, which ships pydantic 1 as
    `pydantic.v1`. Serve that under the old names before importing."""
    import pydantic

    if pydantic.VERSION.startswith("2."):
        import pydantic.v1 as v1

        sys.modules["pydantic"] = v1
        for name in (
            "class_validators",
            "config",
            "dataclasses",
            "datetime_parse",
            "error_wrappers",
            "errors",
            "fields",
            "json",
            "main",
            "networks",
            "types",
            "typing",
            "utils",
            "validators",
        ):
            sys.modules["pydantic." + name] = importlib.import_module("pydantic.v1." + name)
    import fhir.resources

    if fhir.resources.__fhir_version__ != "4.0.1":
        sys.exit(f"fhir.resources models are FHIR {fhir.resources.__fhir_version__}, not 4.0.1")
    from fhir.resources.bundle import Bundle
    from fhir.resources.capabilitystatement import CapabilityStatement
    from fhir.resources.operationoutcome import OperationOutcome
    from fhir.resources.servicerequest import ServiceRequest

    return {
        "ServiceRequest": ServiceRequest,
        "Bundle": Bundle,
        "CapabilityStatement": CapabilityStatement,
        "OperationOutcome": OperationOutcome,
    }


# Required bindings (R4) of the coded elements our resources carry: element
# path (resource type, then element names; arrays are walked) -> codes.
REQUIRED = {
    ("ServiceRequest", "status"): {
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
    },
    ("ServiceRequest", "intent"): {
        "proposal", "plan", "directive", "order", "original-order", "reflex-order",
        "filler-order", "instance-order", "option",
    },
    ("ServiceRequest", "priority"): {"routine", "urgent", "asap", "stat"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Patient", "contact", "gender"): {"male", "female", "other", "unknown"},
    ("Patient", "telecom", "system"): {"phone", "fax", "email", "pager", "url", "sms", "other"},
    ("Patient", "contact", "telecom", "system"): {
        "phone", "fax", "email", "pager", "url", "sms", "other",
    },
    ("Bundle", "type"): {
        "document", "message", "transaction", "transaction-response", "batch",
        "batch-response", "history", "searchset", "collection",
    },
    ("Bundle", "entry", "search", "mode"): {"match", "include", "outcome"},
    ("CapabilityStatement", "status"): {"draft", "active", "retired", "unknown"},
    ("CapabilityStatement", "kind"): {"instance", "capability", "requirements"},
    ("CapabilityStatement", "fhirVersion"): {"4.0.0", "4.0.1"},
    ("CapabilityStatement", "rest", "mode"): {"client", "server"},
    ("CapabilityStatement", "rest", "resource", "interaction", "code"): {
        "read", "vread", "update", "patch", "delete", "history-instance",
        "history-type", "create", "search-type",
    },
    ("CapabilityStatement", "rest", "resource", "versioning"): {
        "no-version", "versioned", "versioned-update",
    },
    ("OperationOutcome", "issue", "severity"): {"fatal", "error", "warning", "information"},
    ("OperationOutcome", "issue", "code"): {
        "invalid", "structure", "required", "value", "invariant", "security", "login",
        "unknown", "expired", "forbidden", "suppressed", "processing", "not-supported",
        "duplicate", "multiple-matches", "not-found", "deleted", "too-long",
        "code-invalid", "extension", "too-costly", "business-rule", "conflict",
        "transient", "lock-contention", "no-store", "exception", "timeout",
        "incomplete", "throttled", "informational",
    },
}


def check_json(value, path, problems):
    """FHIR JSON: no null, no empty string, array or object anywhere."""
    if value is None:
        problems.append(f"{path}: null is not allowed in FHIR JSON")
    elif isinstance(value, str):
        if not value.strip():
            problems.append(f"{path}: empty string")
    elif isinstance(value, list):
        if not value:
            problems.append(f"{path}: empty array")
        for i, item in enumerate(value):
            check_json(item, f"{path}[{i}]", problems)
    elif isinstance(value, dict):
        if not value:
            problems.append(f"{path}: empty object")
        for key, item in value.items():
            check_json(item, f"{path}.{key}" if path else key, problems)


def values_at(node, names, path):
    """(path, value) of the element `names` below `node`, through arrays."""
    if not names:
        yield path, node
        return
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from values_at(item, names, f"{path}[{i}]")
    elif isinstance(node, dict) and names[0] in node:
        yield from values_at(node[names[0]], names[1:], f"{path}.{names[0]}")


def resources_in(resource, path):
    """Every resource: this one, its contained ones, its Bundle entries'."""
    yield path, resource
    for i, c in enumerate(resource.get("contained") or []):
        if isinstance(c, dict):
            yield from resources_in(c, f"{path}.contained[{i}]")
    for i, e in enumerate(resource.get("entry") or []):
        if isinstance(e, dict) and isinstance(e.get("resource"), dict):
            yield from resources_in(e["resource"], f"{path}.entry[{i}].resource")


def local_references(node, path):
    """Local references of one resource: not of those it contains or holds
    in Bundle entries (each is checked against its own contained)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key == "reference" and isinstance(value, str) and value.startswith("#"):
                yield here, value[1:]
            elif key != "contained" and not (isinstance(value, dict) and "resourceType" in value):
                yield from local_references(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from local_references(item, f"{path}[{i}]")


def check_rules(resource, problems):
    for path, r in resources_in(resource, resource.get("resourceType", "")):
        kind = r.get("resourceType")
        for (rtype, *names), codes in REQUIRED.items():
            if rtype != kind:
                continue
            for where, code in values_at(r, names, path):
                if code not in codes:
                    problems.append(f"{where}: {code!r} is not in the required value set")
        contained = {c.get("id") for c in r.get("contained") or [] if isinstance(c, dict)}
        for where, target in local_references(r, path):
            if target and target not in contained:
                problems.append(f"{where}: '#{target}' names no contained resource")


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: check_fhir.py FILE")
    try:
        with open(argv[1], encoding="utf-8") as f:
            resource = json.load(f)
    except (OSError, ValueError) as e:
        print(f"(file): {e}")
        return 2
    models = load_r4_models()
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind not in models:
        print(f"resourceType: {kind!r} is not one of {', '.join(models)}")
        return 1
    problems = []
    try:
        models[kind].parse_obj(resource)
    except Exception as e:  # pydantic's ValidationError names each element
        errors = getattr(e, "errors", None)
        if callable(errors):
            for err in errors():
                where = kind
                for part in err.get("loc", ()):
                    if isinstance(part, int):
                        where += f"[{part}]"
                    elif part != "__root__":
                        where += f".{part}"
                problems.append(f"{where}: {err.get('msg')}")
        else:
            problems.append(f"{kind}: {e}")
    check_json(resource, kind, problems)
    check_rules(resource, problems)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{kind}: OK (FHIR R4 4.0.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
