/**
 * A small seeded pseudo-random number generator for the demo generator.
 *
 * The demo must be byte-identical for a given seed on every machine, so it never
 * touches `Math.random` (unseeded, engine-specific). sfc32 passes PractRand to 2^40 bytes, needs
 * only 32-bit integer arithmetic (exact in JavaScript) and is a few lines long. The distributions use
 * Math.log, Math.exp and Math.cos, which V8 implements with its own port of fdlibm rather than the
 * platform's libm, so they too give the same bits everywhere.
 */

/** A seeded source of random numbers and the few distributions the demo needs. */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** Two generators built from the same `seed` and `stream` produce the same sequence. */
  constructor(seed: number, stream = 0) {
    // splitmix32 spreads any integer seed (0, 1, 2… are poor sfc32 states) over the 128-bit state;
    // `stream` gives independent sequences for independent concerns from one user-facing seed.
    let s = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    // The bits of a seed beyond 32 are mixed in after a first round, so that 1 and 2^32 + 1 differ.
    s = (next() ^ Math.floor(Math.trunc(seed) / 4294967296)) >>> 0
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    // The first outputs of sfc32 are still correlated with the seed: discard them.
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** A uniform 32-bit unsigned integer (sfc32). */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** A uniform integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** A uniform float in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** An exponentially distributed value with the given mean (gaps of a Poisson process). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean
  }

  /** A log-normal value with the given median and log-space spread (amounts, reply delays). */
  logNormal(median: number, sigma: number): number {
    // Box–Muller; 1 - next() keeps the logarithm finite.
    const u = 1 - this.next()
    const v = this.next()
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return median * Math.exp(sigma * z)
  }

  /** A Poisson-distributed count with the given (small) mean: how many times something happens in a week. */
  poisson(mean: number): number {
    // Knuth's method: exact, and cheap for the means below 10 the demo uses.
    const limit = Math.exp(-mean)
    let k = 0
    let p = this.next()
    while (p > limit) {
      k++
      p *= this.next()
    }
    return k
  }

  /** An index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    let x = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number
      if (x < 0) return i
    }
    return weights.length - 1
  }
}
