// Runs the checks one after another (they share clients and stay gentle on both APIs) and reports each as
// it finishes. A reader that throws fails its check with the error and the check's fix.
import { DOCTOR_CHECKS, type DoctorCheck, type DoctorReaders } from "./checks.ts";

export interface CheckResult {
  id: string;
  name: string;
  ok: boolean;
  detail: string;
  /** Present when the check failed. */
  fix?: string;
  ms: number;
}

export interface DoctorReport {
  ok: boolean;
  startedAt: string;
  results: CheckResult[];
}

export async function runDoctor(readers: DoctorReaders, options: { checks?: readonly DoctorCheck[]; onStart?: (check: DoctorCheck, index: number, total: number) => void; onResult?: (result: CheckResult) => void } = {}): Promise<DoctorReport> {
  const checks = options.checks ?? DOCTOR_CHECKS;
  const startedAt = new Date().toISOString();
  const results: CheckResult[] = [];
  readers.reset?.();
  for (const [index, check] of checks.entries()) {
    options.onStart?.(check, index, checks.length);
    const started = Date.now();
    let result: CheckResult;
    try {
      const outcome = await check.run(readers);
      result = { id: check.id, name: check.name, ok: outcome.ok, detail: outcome.detail, ...(outcome.ok ? {} : { fix: outcome.fix }), ms: Date.now() - started };
    } catch (error) {
      const whatToDo = (error as { whatToDo?: unknown }).whatToDo;
      const message = ((error as Error)?.message ?? String(error)).replace(/\s+/g, " ").slice(0, 300);
      result = { id: check.id, name: check.name, ok: false, detail: message, fix: typeof whatToDo === "string" ? `${whatToDo} ${check.fix}` : check.fix, ms: Date.now() - started };
    }
    results.push(result);
    options.onResult?.(result);
  }
  return { ok: results.every((r) => r.ok), startedAt, results };
}

/** One line per check, and the fix under a failure: what the CLI prints. */
export function formatResult(result: CheckResult): string[] {
  const line = `${result.ok ? "✔" : "✖"} ${result.name}: ${result.detail}`;
  return result.ok ? [line] : [line, `    fix: ${result.fix}`];
}
