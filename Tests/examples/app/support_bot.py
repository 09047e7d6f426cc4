#!/usr/bin/env python3
"""A small support agent, as a team might write it: reads {"question": ...} as JSON on its
standard input, asks the model (which may call the get_order tool), runs the tool itself,
asks again with the result, and prints {"answer": ...}. It talks to the model only through the
official OpenAI SDK, which reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment —
promptcheck points them at its loopback endpoint, so every model call is recorded and replayed."""
import json
import os
import sys

from openai import OpenAI

ORDERS = {"A1": "shipped", "B2": "delayed"}
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_order",
        "description": "Look an order up by its id",
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
    },
}]


def answer(client, model, question, system):
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    first = client.chat.completions.create(
        model=model, messages=messages, tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_order"}}, temperature=0)
    message = first.choices[0].message
    calls = message.tool_calls or []
    if not calls:
        return message.content or ""
    messages.append({
        "role": "assistant", "content": message.content or "",
        "tool_calls": [{"id": c.id, "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments}} for c in calls],
    })
    for c in calls:
        try:
            order_id = json.loads(c.function.arguments).get("id", "")
        except ValueError:
            order_id = ""
        result = {"id": order_id, "status": ORDERS.get(order_id.upper(), "unknown")}
        messages.append({"role": "tool", "tool_call_id": c.id, "content": json.dumps(result)})
    second = client.chat.completions.create(model=model, messages=messages, temperature=0)
    return second.choices[0].message.content or ""


def main():
    request = json.load(sys.stdin)
    client = OpenAI()
    system = request.get("system") or os.environ.get(
        "APP_SYSTEM", "You are a support agent. Use get_order to look orders up.")
    text = answer(client, request.get("model", "smollm2-135m-instruct"), request["question"], system)
    print(json.dumps({"answer": text}))


if __name__ == "__main__":
    main()
