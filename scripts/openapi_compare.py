#!/usr/bin/env python3
"""Compares two OpenAPI documents operation by operation.

    scripts/openapi_compare.py OLD.json NEW.json [--schemas]

Reports operations present in only one, and for each shared operation differences in status
codes, response and request content types, parameters (name, place, required), security,
response headers and links. With --schemas it also compares every request and response
schema after resolving $ref (descriptions, titles and examples ignored; allOf of one member
flattened). Exit status 1 when anything differs.
"""
import json
import sys

IGNORED = {"description", "title", "example", "examples", "summary"}
# Refinements that say no less than their absence: integer and number formats, string keys.
REFINEMENTS = {
    ("format", "int32"), ("format", "int64"), ("format", "double"), ("format", "float"),
    ("propertyNames", '{"type": "string"}'),
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def operations(doc):
    out = {}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                out[(method.upper(), path)] = op
    return out


def resolve(doc, node, seen=()):
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {"$recursive": ref}
            target = doc
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            resolved = resolve(doc, target, seen + (ref,))
            siblings = {k: v for k, v in node.items() if k != "$ref" and k not in IGNORED}
            if siblings and isinstance(resolved, dict):
                resolved = {**resolved, **resolve(doc, siblings, seen)}
            return resolved
        out = {}
        for k, v in node.items():
            if k in IGNORED:
                continue
            if (k, v if isinstance(v, str) else json.dumps(v)) in REFINEMENTS:
                continue
            out[k] = resolve(doc, v, seen)
        if "allOf" in out:
            out["allOf"] = sorted(out["allOf"], key=lambda x: json.dumps(x, sort_keys=True))
        if list(out) == ["allOf"] and len(out["allOf"]) == 1:
            return out["allOf"][0]
        if "allOf" in out and len(out["allOf"]) == 1 and "type" not in out:
            merged = dict(out["allOf"][0])
            merged.update({k: v for k, v in out.items() if k != "allOf"})
            return merged
        if "required" in out and isinstance(out["required"], list):
            out["required"] = sorted(out["required"])
        if "type" in out and isinstance(out["type"], list):
            out["type"] = sorted(out["type"])
        return out
    if isinstance(node, list):
        return [resolve(doc, v, seen) for v in node]
    return node


def response(doc, r):
    return resolve(doc, r) if "$ref" in r else r


def diff(a, b, where, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{where}.{k}: only new: {json.dumps(b[k])[:160]}")
            elif k not in b:
                out.append(f"{where}.{k}: only old: {json.dumps(a[k])[:160]}")
            else:
                diff(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
        isinstance(x, dict) for x in a + b
    ):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: old {json.dumps(a)[:160]} new {json.dumps(b)[:160]}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    schemas = "--schemas" in sys.argv
    old, new = load(args[0]), load(args[1])
    old_ops, new_ops = operations(old), operations(new)
    problems = []
    for key in sorted(set(old_ops) - set(new_ops)):
        problems.append(f"{key[0]} {key[1]}: only in the old document")
    for key in sorted(set(new_ops) - set(old_ops)):
        problems.append(f"{key[0]} {key[1]}: only in the new document")
    for key in sorted(set(old_ops) & set(new_ops)):
        a, b = old_ops[key], new_ops[key]
        name = f"{key[0]} {key[1]}"
        out = []
        if a.get("operationId") != b.get("operationId"):
            out.append(f"operationId {a.get('operationId')} -> {b.get('operationId')}")
        ra, rb = a.get("responses", {}), b.get("responses", {})
        if sorted(ra) != sorted(rb):
            out.append(f"status codes {sorted(ra)} -> {sorted(rb)}")
        for status in sorted(set(ra) & set(rb)):
            xa, xb = response(old, ra[status]), response(new, rb[status])
            ca, cb = xa.get("content", {}), xb.get("content", {})
            if sorted(ca) != sorted(cb):
                out.append(f"{status} content types {sorted(ca)} -> {sorted(cb)}")
            if sorted(xa.get("headers", {})) != sorted(xb.get("headers", {})):
                out.append(f"{status} headers {sorted(xa.get('headers', {}))} -> {sorted(xb.get('headers', {}))}")
            la, lb = xa.get("links", {}), xb.get("links", {})
            if resolve(old, la) != resolve(new, lb):
                out.append(f"{status} links differ: {sorted(la)} -> {sorted(lb)}")
            if schemas:
                for ct in sorted(set(ca) & set(cb)):
                    diff(resolve(old, ca[ct].get("schema")), resolve(new, cb[ct].get("schema")),
                         f"{status} {ct}", out)
                for h in sorted(set(xa.get("headers", {})) & set(xb.get("headers", {}))):
                    diff(resolve(old, xa["headers"][h]), resolve(new, xb["headers"][h]),
                         f"{status} header {h}", out)
        pa = {(p["name"], p["in"]): p for p in a.get("parameters", [])}
        pb = {(p["name"], p["in"]): p for p in b.get("parameters", [])}
        if sorted(pa) != sorted(pb):
            out.append(f"parameters {sorted(pa)} -> {sorted(pb)}")
        for p in sorted(set(pa) & set(pb)):
            if bool(pa[p].get("required")) != bool(pb[p].get("required")):
                out.append(f"parameter {p} required {pa[p].get('required')} -> {pb[p].get('required')}")
            if schemas:
                diff(resolve(old, pa[p].get("schema")), resolve(new, pb[p].get("schema")),
                     f"parameter {p[0]}", out)
        qa, qb = a.get("requestBody"), b.get("requestBody")
        if (qa is None) != (qb is None):
            out.append(f"request body {'absent' if qa is None else 'present'} -> {'absent' if qb is None else 'present'}")
        elif qa is not None:
            if bool(qa.get("required")) != bool(qb.get("required")):
                out.append(f"request body required {qa.get('required')} -> {qb.get('required')}")
            if sorted(qa.get("content", {})) != sorted(qb.get("content", {})):
                out.append(f"request content types {sorted(qa.get('content', {}))} -> {sorted(qb.get('content', {}))}")
            if schemas:
                for ct in sorted(set(qa.get("content", {})) & set(qb.get("content", {}))):
                    diff(resolve(old, qa["content"][ct].get("schema")),
                         resolve(new, qb["content"][ct].get("schema")), f"request {ct}", out)
        sa = a.get("security", old.get("security"))
        sb = b.get("security", new.get("security"))
        if sa != sb:
            out.append(f"security {sa} -> {sb}")
        problems.extend(f"{name}: {line}" for line in out)
    print(f"operations: old {len(old_ops)}, new {len(new_ops)}, shared {len(set(old_ops) & set(new_ops))}")
    for line in problems:
        print(line)
    print(f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
