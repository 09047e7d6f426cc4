import Foundation
import PromptCheckCore

/// The statistics a gate applies to repeated samples of one test (README "Nondeterministic answers").
package enum PassRateStatistics {
  /// The standard normal quantile: the z with P(Z <= z) = p (Acklam's rational approximation,
  /// relative error below 1.2e-9), for 0 < p < 1.
  package static func normalQuantile(_ p: Double) -> Double {
    let a = [
      -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00,
    ]
    let b = [
      -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01,
    ]
    let c = [
      -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
      4.374664141464968e+00, 2.938163982698783e+00,
    ]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let low = 0.02425
    if p < low {
      let q = (-2 * log(p)).squareRoot()
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
        / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    if p > 1 - low { return -normalQuantile(1 - p) }
    let q = p - 0.5
    let r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
      / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  }

  /// The two-sided Wilson score interval of `passes` out of `runs` at `confidence` (e.g. 0.95).
  package static func wilson(passes: Int, runs: Int, confidence: Double) -> (lower: Double, upper: Double) {
    guard runs > 0 else { return (0, 1) }
    let n = Double(runs)
    let p = Double(passes) / n
    let z = normalQuantile(1 - (1 - confidence) / 2)
    let z2 = z * z
    let denominator = 1 + z2 / n
    let center = (p + z2 / (2 * n)) / denominator
    let margin = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
    return (max(0, center - margin), min(1, center + margin))
  }

  /// Wald's sequential probability ratio test of "the pass rate is at least `rate`".
  package struct SPRT: Sendable, Equatable {
    /// The rate the test separates around, and the half-width of the indifference zone.
    package var rate: Double
    package var delta = 0.1
    /// The chance of passing a test whose true rate is `rate - delta`, and of failing one at `rate + delta`.
    package var alpha = 0.05
    package var beta = 0.05

    package init(rate: Double, delta: Double = 0.1, alpha: Double = 0.05, beta: Double = 0.05) {
      self.rate = rate
      self.delta = delta
      self.alpha = alpha
      self.beta = beta
    }

    package enum Decision: String, Sendable, Equatable {
      case pass, fail, undecided
    }

    /// The decision after these samples.
    package func decide(passes: Int, runs: Int) -> Decision {
      let p0 = min(max(rate - delta, 0.001), 0.999)
      let p1 = min(max(rate + delta, 0.001), 0.999)
      let fails = Double(runs - passes)
      let llr = Double(passes) * log(p1 / p0) + fails * log((1 - p1) / (1 - p0))
      if llr >= log((1 - beta) / alpha) { return .pass }
      if llr <= log(beta / (1 - alpha)) { return .fail }
      return .undecided
    }
  }
}
