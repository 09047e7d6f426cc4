import Foundation
import Testing

@testable import PromptCheckCompare
@testable import PromptCheckExecute

/// `Subprocess.capture`, which runs git for `compare` and the tools the tests use, in place of
/// Foundation's `Process.run()`.
@Suite struct SubprocessCaptureTests {
  @Test func theOutputsComeBackAsBytesWithTheStatus() throws {
    let r = try Subprocess.capture(
      ["sh", "-c", "head -c 3 >/dev/null; printf 'a\\0b'; printf oops >&2; exit 3"], input: Array("xyz".utf8),
      timeoutMS: 10_000
    ).get()
    #expect(r.status == 3)
    #expect(r.stdout == [0x61, 0x00, 0x62])
    #expect(r.stderr == Array("oops".utf8))
    #expect(!r.timedOut && !r.truncated)
  }

  @Test func anOutputPastItsBoundStopsTheChild() throws {
    let r = try Subprocess.capture(["sh", "-c", "yes"], timeoutMS: 20_000, maxOutput: 100_000).get()
    let (truncated, count, status, timedOut) = (r.truncated, r.stdout.count, r.status, r.timedOut)
    #expect(truncated)
    #expect(count == 100_000)
    #expect(status != 0)
    #expect(!timedOut)
  }

  @Test func aChildPastItsDeadlineIsKilled() throws {
    let r = try Subprocess.capture(["sleep", "30"], timeoutMS: 300).get()
    #expect(r.timedOut)
    #expect(r.status == nil)
  }

  @Test func aChildGetsSIGPIPEBackAsItsDefault() throws {
    // The run ignores SIGPIPE; a pipeline in a command must still end when its reader goes.
    // `yes`'s own status reaches stderr: 141 (128 + SIGPIPE) by default, 1 with SIGPIPE ignored.
    let r = try Subprocess.capture(["sh", "-c", "(yes; echo \"yes: $?\" >&2) | head -c 4"], timeoutMS: 20_000).get()
    #expect(String(decoding: r.stdout, as: UTF8.self) == "y\ny\n")
    #expect(String(decoding: r.stderr, as: UTF8.self) == "yes: 141\n")
    #expect(!r.timedOut)
  }

  @Test func aMissingToolIsALaunchError() {
    guard case .failure(let e) = Subprocess.capture(["promptcheck-no-such-tool"], timeoutMS: 1_000) else {
      Issue.record("a missing tool ran")
      return
    }
    #expect(e.message.contains("promptcheck-no-such-tool"))
  }

  @Test func gitRunsInTheFolderAndSaysWhenItFails() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pc-git-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    guard case .success = Git.run(["init", "-q"], in: dir) else {
      Issue.record("git init failed")
      return
    }
    let top = try Git.run(["rev-parse", "--show-toplevel"], in: dir).get()
    #expect(String(decoding: top, as: UTF8.self).hasSuffix(URL(fileURLWithPath: dir).lastPathComponent + "\n"))
    let echoed = try Git.run(["hash-object", "--stdin"], in: dir, input: Array("hi\n".utf8)).get()
    #expect(String(decoding: echoed, as: UTF8.self) == "45b983be36b73c0788dc9cbcb76cbb80fc7bb057\n")
    guard case .failure(let e) = Git.run(["rev-parse", "no-such-revision"], in: dir) else {
      Issue.record("a missing revision was found")
      return
    }
    #expect(e.description.contains("git rev-parse failed"))
  }
}
