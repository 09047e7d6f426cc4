def get_assert(output, context):
    ok = context["vars"]["thing"] in output
    return {"pass": ok, "score": 1.0 if ok else 0.0, "reason": "mentions the thing" if ok else "does not"}
