// The sandbox clock: real time plus an offset that tests and the control API move forward, so a
// 14-day expiry or a retry schedule runs in milliseconds. Listeners hear every jump.

export class SandboxClock {
  private offset = 0;
  private readonly listeners = new Set<() => void>();

  now(): number {
    return Date.now() + this.offset;
  }

  get offsetMs(): number {
    return this.offset;
  }

  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError("the sandbox clock only moves forward");
    this.offset += ms;
    for (const listener of this.listeners) listener();
    return this.now();
  }

  /** Moves the clock to `at` (must not be in the clock's past). */
  set(at: number): number {
    return this.advance(at - this.now());
  }

  reset(): void {
    this.offset = 0;
    for (const listener of this.listeners) listener();
  }

  onJump(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Reads a duration: milliseconds, `90s`, `15m`, `2h`, `14d`, or ISO 8601 (`P14D`, `PT2H30M`). */
export function parseDuration(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "string") throw new RangeError("a duration is a number of milliseconds or a string like 14d, 2h, P14D");
  const simple = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i.exec(value.trim());
  if (simple) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[simple[2]!.toLowerCase() as "ms" | "s" | "m" | "h" | "d"];
    return Number(simple[1]) * unit;
  }
  const iso = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(value.trim());
  if (iso && value.trim().length > 1 && !/T$/i.test(value.trim())) {
    const [, w, d, h, m, s] = iso;
    return (Number(w ?? 0) * 7 + Number(d ?? 0)) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000;
  }
  throw new RangeError(`'${value}' is not a duration (use milliseconds, 14d, 2h, 30m, 10s or ISO 8601 like P14D)`);
}
