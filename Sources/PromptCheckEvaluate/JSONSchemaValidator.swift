import PromptCheckCore

/// Validates JSON against the JSON Schema subset of `is-json` (pure).
enum JSONSchemaValidator {
  /// Every violation, as `path: message` (paths are normalized JSON-paths).
  static func validate(_ value: JSON, _ schema: JSONSchema, at path: [JSONPath.PathElement] = []) -> [String] {
    var errors: [String] = []
    func fail(_ message: String) { errors.append("\(JSONPath.normalizedPath(path)): \(message)") }

    if let types = schema.types, !types.contains(where: { matches(value, type: $0) }) {
      fail("expected \(types.joined(separator: " or ")), found \(describe(value))")
      return errors
    }
    if let allowed = schema.enumValues, !allowed.contains(value) {
      fail("\(Excerpt.json(value, length: 40)) is not one of \(Excerpt.json(.array(allowed), length: 80))")
    }
    if let c = schema.constValue, c != value {
      fail("expected \(Excerpt.json(c, length: 40)), found \(Excerpt.json(value, length: 40))")
    }
    if let n = value.numberValue, value.isNumber {
      if let m = schema.minimum, n < m {
        fail("\(Excerpt.json(value)) is less than the minimum \(Excerpt.json(.double(m)))")
      }
      if let m = schema.maximum, n > m {
        fail("\(Excerpt.json(value)) is greater than the maximum \(Excerpt.json(.double(m)))")
      }
    }
    if case .string(let s) = value {
      let length = s.unicodeScalars.count
      if let m = schema.minLength, length < m { fail("string is \(length) characters, shorter than minLength \(m)") }
      if let m = schema.maxLength, length > m { fail("string is \(length) characters, longer than maxLength \(m)") }
      if let p = schema.pattern {
        // A pattern that runs away counts as not matching.
        if (try? p.firstMatch(in: s)) == nil {
          fail("\(Excerpt.json(value, length: 40)) does not match /\(p.pattern)/")
        }
      }
    }
    if case .array(let items) = value, let itemSchema = schema.items {
      for (i, item) in items.enumerated() { errors += validate(item, itemSchema, at: path + [.index(i)]) }
    }
    if case .object(let object) = value {
      for name in schema.required where object[name] == nil { fail("required property '\(name)' is missing") }
      for (name, member) in object.members {
        if let property = schema.properties.first(where: { $0.name.utf8.elementsEqual(name.utf8) }) {
          errors += validate(member, property.schema, at: path + [.name(name)])
          continue
        }
        switch schema.additionalProperties {
        case .allowed: break
        case .forbidden:
          errors.append("\(JSONPath.normalizedPath(path + [.name(name)])): additional property is not allowed")
        case .schema(let s): errors += validate(member, s, at: path + [.name(name)])
        }
      }
    }
    return errors
  }

  static func matches(_ value: JSON, type: String) -> Bool {
    switch (type, value) {
    case ("null", .null), ("boolean", .bool), ("object", .object), ("array", .array), ("string", .string): return true
    case ("number", .int), ("number", .double), ("integer", .int): return true
    case ("integer", .double(let d)): return d.isFinite && d.rounded() == d
    default: return false
    }
  }

  static func describe(_ value: JSON) -> String {
    switch value {
    case .int: return "integer \(value.serialized())"
    case .double: return "number \(value.serialized())"
    case .string(let s): return "string \(Excerpt.start(s, length: 30))"
    default: return value.typeName
    }
  }
}
