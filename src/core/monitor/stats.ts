/**
 * Drift statistics on binned data: the model server keeps counts on the reference's quantile bins,
 * never the raw values of a million rows, so every test here works from counts.
 */

/**
 * Empty bins get this share before the logarithm of PSI: an empty bin would make PSI infinite, and
 * 1e-4 (a hundredth of a percent) is the usual floor (e.g. Evidently's, NannyML's); it caps one
 * bin's contribution near 0.1 × ln(1000) ≈ 0.7 for a bin holding 10 % on one side only.
 */
export const PSI_EPSILON = 1e-4;

const fractions = (counts: readonly number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
};

/** Population stability index Σ (cur − ref) · ln(cur / ref) over aligned bins; null when either side is empty. */
export function psi(reference: readonly number[], current: readonly number[]): number | null {
  if (sum(reference) === 0 || sum(current) === 0) return null;
  const p = fractions(reference);
  const q = fractions(current);
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const a = Math.max(p[i]!, PSI_EPSILON);
    const b = Math.max(q[i]!, PSI_EPSILON);
    total += (b - a) * Math.log(b / a);
  }
  return total;
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/**
 * Two-sample Kolmogorov–Smirnov on counts over the same ordered bins: D is the largest gap between
 * the two cumulative distributions at a bin edge. With the 40 reference quantile bins the server
 * keeps, D is exact at those edges and can miss at most one bin's mass (2.5 % of the reference)
 * between them, so the binned test is slightly conservative. The p-value is the asymptotic
 * Kolmogorov distribution with Stephens' small-sample correction (Numerical Recipes §14.3).
 */
export function ks(reference: readonly number[], current: readonly number[]): { d: number; p: number } | null {
  const n = sum(reference);
  const m = sum(current);
  if (n === 0 || m === 0) return null;
  let a = 0;
  let b = 0;
  let d = 0;
  for (let i = 0; i < reference.length; i++) {
    a += reference[i]! / n;
    b += current[i]! / m;
    d = Math.max(d, Math.abs(a - b));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { d, p: kolmogorovQ((en + 0.12 + 0.11 / en) * d) };
}

/** P(K > λ) of the Kolmogorov distribution. */
function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let total = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda);
    total += term;
    if (Math.abs(term) < 1e-12) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * total));
}

/**
 * Pearson's chi-square goodness of fit of `current` counts to the reference's proportions. The
 * reference's counts get half a count each first, so a category it never had (the "unseen" bin)
 * has a small expected count instead of a division by zero.
 */
export function chiSquare(reference: readonly number[], current: readonly number[]): { statistic: number; p: number } | null {
  const m = sum(current);
  if (m === 0 || reference.length < 2) return null;
  const smoothed = reference.map((c) => c + 0.5);
  const n = sum(smoothed);
  let statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    const expected = (smoothed[i]! / n) * m;
    statistic += (current[i]! - expected) ** 2 / expected;
  }
  return { statistic, p: upperGammaQ((reference.length - 1) / 2, statistic / 2) };
}

/** Jensen–Shannon distance (base 2, from 0 for equal to 1 for disjoint distributions). */
export function jensenShannon(reference: readonly number[], current: readonly number[]): number | null {
  if (sum(reference) === 0 || sum(current) === 0) return null;
  const p = fractions(reference);
  const q = fractions(current);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const mid = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) divergence += 0.5 * p[i]! * Math.log2(p[i]! / mid);
    if (q[i]! > 0) divergence += 0.5 * q[i]! * Math.log2(q[i]! / mid);
  }
  return Math.sqrt(Math.max(0, divergence));
}

/**
 * Holm's step-down adjustment: with m tests, the i-th smallest p-value is multiplied by m − i + 1,
 * made monotone and capped at 1. Controls the family-wise error like Bonferroni, with more power;
 * nulls (untested features) stay null and do not count.
 */
export function holm(pValues: readonly (number | null)[]): (number | null)[] {
  const tested = pValues.map((p, i) => ({ p, i })).filter((x): x is { p: number; i: number } => x.p !== null).sort((a, b) => a.p - b.p);
  const adjusted: (number | null)[] = pValues.map(() => null);
  let running = 0;
  tested.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (tested.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** ln Γ(x), Lanczos approximation (Numerical Recipes §6.1). */
function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const coefficient of c) ser += coefficient / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Regularized upper incomplete gamma Q(a, x): series below a + 1, continued fraction above (Numerical Recipes §6.2). */
export function upperGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const gln = logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let total = del;
    for (let n = 0; n < 500; n++) {
      del *= x / ++ap;
      total += del;
      if (Math.abs(del) < Math.abs(total) * 1e-14) break;
    }
    return Math.max(0, 1 - total * Math.exp(-x + a * Math.log(x) - gln));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return Math.min(1, Math.exp(-x + a * Math.log(x) - gln) * h);
}
