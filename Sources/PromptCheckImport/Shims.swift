/// Small programs an import writes beside the suites, so promptfoo's code assertions and
/// Python providers run unchanged under promptcheck's `exec` and command targets.
enum Shims {
  /// `exec` input (the case as JSON on stdin) → promptfoo's `get_assert(output, context)`, or an
  /// inline expression (a multi-line value is a function body); its result as promptcheck reads it.
  static let pythonAssert = #"""
    #!/usr/bin/env python3
    # promptfoo's Python assertions under promptcheck's exec (written by promptcheck import).
    # The case comes as JSON on standard input; the result goes out as {"pass", "score", "reason"}.
    import importlib.util, json, sys

    case = json.load(sys.stdin)
    output = case.get("output", "")
    context = {"vars": case.get("vars", {}), "test": {"description": case.get("test")}, "prompt": None}
    if sys.argv[1] == "--file":
        path, _, name = sys.argv[2].partition(":")
        spec = importlib.util.spec_from_file_location("promptfoo_assert", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = getattr(module, name or "get_assert")(output, context)
    else:
        code = sys.argv[2]
        if "\n" in code.strip():
            scope = {}
            exec("def _assert(output, context):\n" + "\n".join("    " + l for l in code.splitlines()), scope)
            result = scope["_assert"](output, context)
        else:
            result = eval(code, {"output": output, "context": context})
    if isinstance(result, dict):
        out = {"pass": bool(result.get("pass", False))}
        if "score" in result:
            out["score"] = max(0.0, min(1.0, float(result["score"])))
        if result.get("reason"):
            out["reason"] = str(result["reason"])
    elif isinstance(result, bool):
        out = {"pass": result}
    else:
        out = {"pass": float(result) > 0, "score": max(0.0, min(1.0, float(result)))}
    print(json.dumps(out))
    """#

  static let javascriptAssert = #"""
    // promptfoo's JavaScript assertions under promptcheck's exec (written by promptcheck import).
    // The case comes as JSON on standard input; the result goes out as {"pass", "score", "reason"}.
    let input = "";
    process.stdin.on("data", (d) => (input += d));
    process.stdin.on("end", () => {
      const c = JSON.parse(input);
      const output = c.output || "";
      const context = { vars: c.vars || {}, test: { description: c.test } };
      const code = process.argv[2];
      const body = code.includes("return") ? code : "return (" + code + ");";
      const result = new Function("output", "context", body)(output, context);
      let out;
      if (result && typeof result === "object") {
        out = { pass: !!result.pass };
        if (typeof result.score === "number") out.score = Math.max(0, Math.min(1, result.score));
        if (result.reason) out.reason = String(result.reason);
      } else if (typeof result === "boolean") {
        out = { pass: result };
      } else {
        out = { pass: Number(result) > 0, score: Math.max(0, Math.min(1, Number(result))) };
      }
      console.log(JSON.stringify(out));
    });
    """#

  /// A command target's input `{"prompt": MESSAGES}` → promptfoo's `call_api(prompt, options, context)`.
  static let pythonProvider = #"""
    #!/usr/bin/env python3
    # A promptfoo Python provider as a promptcheck command target (written by promptcheck import):
    # call_api(prompt, options, context) with the rendered prompt; prints {"output": …}.
    import importlib.util, json, sys

    request = json.load(sys.stdin)
    messages = request.get("prompt", [])
    users = [m.get("content", "") for m in messages if m.get("role") == "user"]
    prompt = users[-1] if len(messages) == 1 and users else (users[-1] if users else json.dumps(messages))
    path, _, name = sys.argv[1].partition(":")
    spec = importlib.util.spec_from_file_location("promptfoo_provider", "prompts/" + path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = getattr(module, name or "call_api")(prompt, {"config": {}}, {"vars": request.get("vars", {})})
    if isinstance(result, dict) and result.get("error"):
        sys.stderr.write(str(result["error"]) + "\n")
        sys.exit(1)
    print(json.dumps({"output": result.get("output", "") if isinstance(result, dict) else str(result)}))
    """#
}
