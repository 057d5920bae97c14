// The status page's HTML, server-rendered from plain data (no I/O): recent syncs, failures with a Retry
// button, queue depth, sync latency percentiles over time as an inline SVG chart, and the doctor's
// report. The one script (app.js) only wires the buttons; the relay's CSP allows no inline script.
import type { DoctorReport } from "../doctor/run.ts";

export interface RunView {
  id: string;
  subject: string;
  state: string;
  attempts: number;
  queuedAt: Date;
  finishedAt: Date | null;
  lastError: string | null;
  whatToDo: string | null;
}

export interface LatencyPoint {
  /** Start of the bucket. */
  at: Date;
  count: number;
  p50Ms: number;
  p95Ms: number;
}

const FINISHED = new Set(["succeeded", "failed", "skipped", "dead"]);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The windows the chart may show: the shortest that holds every sync of the last 24 hours. */
export const CHART_SPANS = [
  { ms: 15 * 60_000, label: "15 min ago" }, { ms: 3600_000, label: "1 h ago" }, { ms: 6 * 3600_000, label: "6 h ago" }, { ms: 24 * 3600_000, label: "24 h ago" },
] as const;

export function chartSpan(runs: readonly RunView[], now: Date): (typeof CHART_SPANS)[number] {
  const oldest = Math.min(...runs.filter((r) => r.finishedAt && FINISHED.has(r.state)).map((r) => r.finishedAt!.getTime()), now.getTime());
  return CHART_SPANS.find((span) => now.getTime() - oldest <= span.ms) ?? CHART_SPANS[CHART_SPANS.length - 1]!;
}

/** p50 and p95 of queued → finished per time bucket, over the runs that finished in the last `spanMs`. */
export function latencySeries(runs: readonly RunView[], now: Date, options: { spanMs?: number; buckets?: number } = {}): LatencyPoint[] {
  const span = options.spanMs ?? 24 * 3600_000;
  const buckets = options.buckets ?? 15;
  const size = span / buckets;
  const start = now.getTime() - span;
  const values: number[][] = Array.from({ length: buckets }, () => []);
  for (const run of runs) {
    if (!run.finishedAt || !FINISHED.has(run.state)) continue;
    const at = run.finishedAt.getTime();
    if (at < start || at > now.getTime()) continue;
    values[Math.min(buckets - 1, Math.floor((at - start) / size))]!.push(Math.max(0, at - run.queuedAt.getTime()));
  }
  return values.flatMap((bucket, index) => {
    if (!bucket.length) return [];
    const sorted = [...bucket].sort((a, b) => a - b);
    return [{ at: new Date(start + index * size), count: bucket.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) }];
  });
}

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const time = (date: Date | null) => (date ? date.toISOString().replace("T", " ").slice(0, 19) : "");
const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A line chart of p50 and p95 per bucket, as inline SVG. */
export function latencyChart(points: readonly LatencyPoint[], now: Date, span: { ms: number; label: string } = CHART_SPANS[CHART_SPANS.length - 1]!): string {
  const spanMs = span.ms;
  const width = 400;
  const height = 180;
  const pad = { left: 56, right: 12, top: 12, bottom: 28 };
  if (!points.length) return `<p class="muted">No syncs finished in the last 24 hours.</p>`;
  const max = Math.max(1000, ...points.map((p) => p.p95Ms));
  // A point sits in the middle of its bucket.
  const bucketMs = spanMs / 15;
  const x = (at: Date) => pad.left + ((at.getTime() + bucketMs / 2 - (now.getTime() - spanMs)) / spanMs) * (width - pad.left - pad.right);
  const y = (ms: number) => height - pad.bottom - (ms / max) * (height - pad.top - pad.bottom);
  const line = (pick: (p: LatencyPoint) => number) => points.map((p) => `${x(p.at).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(" ");
  const dots = (pick: (p: LatencyPoint) => number, cls: string) => points.map((p) => `<circle class="${cls}" cx="${x(p.at).toFixed(1)}" cy="${y(pick(p)).toFixed(1)}" r="3"><title>${escapeHtml(`${time(p.at)} UTC: ${seconds(pick(p))} (${p.count} syncs)`)}</title></circle>`).join("");
  const ticks = [0, 0.5, 1].map((f) => `<text x="${pad.left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(seconds(Math.round(max * f)))}</text><line class="grid" x1="${pad.left}" x2="${width - pad.right}" y1="${y(max * f).toFixed(1)}" y2="${y(max * f).toFixed(1)}"/>`).join("");
  return `<svg role="img" aria-label="Sync latency, p50 and p95" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet">
${ticks}<text x="${pad.left}" y="${height - 8}">${escapeHtml(span.label)}</text><text x="${width - pad.right}" y="${height - 8}" text-anchor="end">now</text>
<polyline class="p95" points="${line((p) => p.p95Ms)}"/><polyline class="p50" points="${line((p) => p.p50Ms)}"/>${dots((p) => p.p95Ms, "p95")}${dots((p) => p.p50Ms, "p50")}
</svg><p class="legend"><span class="key p50"></span> p50 <span class="key p95"></span> p95 (queued → finished)</p>`;
}

const STYLE = `body{font:14px/1.45 "Segoe UI",system-ui,sans-serif;margin:0;color:#242424;background:#fafafa}
header{background:#0f6cbd;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:18px;margin:0}main{padding:16px 24px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
section{background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:12px 16px}section.wide{grid-column:1/-1}
h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{font-weight:600;color:#616161}.state-failed,.state-dead,.fail{color:#b10e1c}.state-succeeded,.ok{color:#0e700e}.muted{color:#707070}
button{font:inherit;border:1px solid #0f6cbd;background:#0f6cbd;color:#fff;border-radius:4px;padding:2px 10px;cursor:pointer}button:disabled{opacity:.6}
header button{background:transparent;border-color:#fff}svg text{font-size:11px;fill:#616161}svg .grid{stroke:#eee}
polyline{fill:none;stroke-width:2}polyline.p50,circle.p50{stroke:#0f6cbd;fill:#0f6cbd}polyline.p95,circle.p95{stroke:#c50f1f;fill:#c50f1f}polyline.p50,polyline.p95{fill:none}
.legend .key{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-left:8px}.key.p50{background:#0f6cbd}.key.p95{background:#c50f1f}
.fix{color:#424242;font-size:13px}code{font-size:12px}header .who{margin-right:8px}details{margin-top:16px}`;

function layout(title: string, body: string, signedIn: string | undefined, scripts: readonly string[] = []): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style>${[...scripts, "/ui/app.js"].map((src) => `<script src="${escapeHtml(src)}" defer></script>`).join("")}</head>
<body><header><h1>Partner Center co-sell relay</h1>${signedIn !== undefined ? `<form method="post" action="/ui/sign-out"><span class="who">${escapeHtml(signedIn)}</span> <button type="submit">Sign out</button></form>` : ""}</header>${body}</body></html>`;
}

/** What the sign-in button hands msal-browser (the same settings the client API publishes at /api/sign-in). */
export interface EntraSignInView {
  authority: string;
  clientId: string;
  scopes: readonly string[];
  knownAuthorities: readonly string[];
}

/**
 * The sign-in page: Sign in with Microsoft (Entra ID, for holders of the Relay.Admin app role) when the
 * client API's app registration is configured; the step key as break-glass (or the only way without it).
 */
export function signInPage(options: { error?: string; entra?: EntraSignInView } = {}): string {
  const { error, entra } = options;
  const alert = error ? `<p class="fail" role="alert">${escapeHtml(error)}</p>` : "";
  const stepKeyForm = `<form method="post" action="/ui/sign-in"><p><label>Step key (<code>PCR_STEP_KEY</code>) <input type="password" name="key" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in with the step key</button></p></form>`;
  if (!entra) {
    return layout("Sign in · co-sell relay", `<main><section><h2>Admin sign-in</h2>${alert}${stepKeyForm}</section></main>`, undefined);
  }
  const data = `data-client-id="${escapeHtml(entra.clientId)}" data-authority="${escapeHtml(entra.authority)}" data-scopes="${escapeHtml(entra.scopes.join(" "))}" data-known-authorities="${escapeHtml(entra.knownAuthorities.join(" "))}"`;
  return layout("Sign in · co-sell relay", `<main><section><h2>Admin sign-in</h2>
<p>Sign in with your work account. The relay admits holders of its <code>Relay.Admin</code> app role.</p>
<p><button type="button" data-entra-sign-in ${data}>Sign in with Microsoft</button> <span class="muted" data-sign-in-state role="status"></span></p>${alert}
<details><summary>Break-glass: sign in with the step key</summary><p class="muted">For when Entra ID cannot be reached. Every use is logged.</p>${stepKeyForm}</details></section></main>`, undefined, ["/ui/msal.js"]);
}

/** The redirect URI page: msal-browser's bridge hands Entra ID's answer to the sign-in page and closes the popup. */
export function signInRedirectPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title><script src="/ui/signin.js" defer></script></head><body><p>Signing in…</p></body></html>`;
}

export function doctorHtml(report: DoctorReport | undefined): string {
  if (!report) return `<p class="muted">Not run yet.</p>`;
  return `<p class="muted">Run ${escapeHtml(time(new Date(report.startedAt)))} UTC: ${report.results.filter((r) => r.ok).length} of ${report.results.length} passed.</p><table><tbody>${report.results.map((r) => `<tr data-check="${escapeHtml(r.id)}"><td class="${r.ok ? "ok" : "fail"}">${r.ok ? "✔" : "✖"}</td><td>${escapeHtml(r.name)}<div class="muted">${escapeHtml(r.detail)}</div>${r.fix ? `<div class="fix">Fix: ${escapeHtml(r.fix)}</div>` : ""}</td></tr>`).join("")}</tbody></table>`;
}

export interface StatusPageModel {
  now: Date;
  /** Who is signed in, as the header shows it. */
  signedInAs?: string;
  runs: readonly RunView[];
  queue: ReadonlyArray<{ queue: string; state: string; count: number }>;
  doctor: DoctorReport | undefined;
}

export function statusPage(model: StatusPageModel): string {
  const recent = model.runs.slice(0, 25);
  // A deal's failure is open until a newer run of it exists.
  const newest = new Map<string, RunView>();
  for (const run of model.runs) if (!newest.has(run.subject)) newest.set(run.subject, run);
  const failures = [...newest.values()].filter((r) => r.state === "failed" || r.state === "dead");
  const queue = model.queue.filter((q) => q.count > 0 || q.state === "queued");
  return layout("Status · co-sell relay", `<main>
<section class="wide" aria-labelledby="failures"><h2 id="failures">Failures (${failures.length})</h2>${failures.length ? `<table><thead><tr><th>when (UTC)</th><th>deal</th><th>what happened</th><th></th></tr></thead><tbody>
${failures.map((r) => `<tr data-run="${escapeHtml(r.id)}"><td>${escapeHtml(time(r.finishedAt ?? r.queuedAt))}</td><td>${escapeHtml(r.subject)}</td><td><span class="state-${escapeHtml(r.state)}">${escapeHtml(r.state)}</span> ${escapeHtml(r.lastError ?? "")}${r.whatToDo ? `<div class="fix">${escapeHtml(r.whatToDo)}</div>` : ""}</td><td><button type="button" data-retry="${escapeHtml(r.id)}">Retry</button> <span class="retry-state" role="status"></span></td></tr>`).join("\n")}</tbody></table>` : `<p class="ok">No failed syncs.</p>`}</section>
<section aria-labelledby="latency"><h2 id="latency">Sync latency</h2>${(() => {
    const span = chartSpan(model.runs, model.now);
    return latencyChart(latencySeries(model.runs, model.now, { spanMs: span.ms }), model.now, span);
  })()}</section>
<section aria-labelledby="queue"><h2 id="queue">Queue</h2><table><thead><tr><th>queue</th><th>state</th><th>jobs</th></tr></thead><tbody>${queue.map((q) => `<tr><td>${escapeHtml(q.queue)}</td><td>${escapeHtml(q.state)}</td><td>${q.count}</td></tr>`).join("")}</tbody></table></section>
<section class="wide" aria-labelledby="runs"><h2 id="runs">Recent syncs</h2><table><thead><tr><th>queued (UTC)</th><th>deal</th><th>state</th><th>attempts</th><th>took</th></tr></thead><tbody>
${recent.map((r) => `<tr><td>${escapeHtml(time(r.queuedAt))}</td><td>${escapeHtml(r.subject)}</td><td class="state-${escapeHtml(r.state)}">${escapeHtml(r.state)}</td><td>${r.attempts}</td><td>${r.finishedAt ? escapeHtml(seconds(r.finishedAt.getTime() - r.queuedAt.getTime())) : ""}</td></tr>`).join("\n")}</tbody></table></section>
<section class="wide" aria-labelledby="doctor-title"><h2 id="doctor-title">relay doctor <button type="button" data-doctor>Run checks</button></h2><div id="doctor" aria-live="polite">${doctorHtml(model.doctor)}</div></section>
</main>`, model.signedInAs ?? "Signed in");
}

/** The page's only script: Retry (then follow the new run until it finishes) and Run checks. */
export const APP_JS = `"use strict";
const headers = { "x-requested-with": "pcr-ui" };
async function follow(runId, status) {
  for (;;) {
    const answer = await fetch("/ui/api/runs/" + encodeURIComponent(runId), { headers });
    const run = await answer.json();
    status.textContent = run.state;
    status.className = "retry-state state-" + run.state;
    if (["succeeded", "failed", "dead", "skipped"].includes(run.state)) return run.state;
    await new Promise((r) => setTimeout(r, 500));
  }
}
// Sign in with Microsoft: msal-browser (/ui/msal.js) in a popup, then the token goes to /ui/session once,
// which answers with the session cookie. Initialized on load, so the click opens the popup at once.
const entraButton = document.querySelector("button[data-entra-sign-in]");
let entra;
if (entraButton && globalThis.PartnerCenterMsal) {
  const d = entraButton.dataset;
  const client = globalThis.PartnerCenterMsal.createClient({
    auth: { clientId: d.clientId, authority: d.authority, knownAuthorities: d.knownAuthorities.split(" ").filter(Boolean), redirectUri: location.origin + "/ui/signin" },
    cache: { cacheLocation: "sessionStorage" },
  });
  entra = { client, ready: client.initialize(), scopes: d.scopes.split(" ").filter(Boolean) };
}
async function signInWithEntra(button) {
  const state = document.querySelector("[data-sign-in-state]");
  const say = (text) => { state.textContent = text; };
  if (!entra) { say("The sign-in script did not load; reload the page."); return; }
  button.disabled = true;
  say("Signing in…");
  try {
    await entra.ready;
    const result = await entra.client.acquireTokenPopup({ scopes: entra.scopes, prompt: "select_account" });
    const answer = await fetch("/ui/session", { method: "POST", headers: { ...headers, authorization: "Bearer " + result.accessToken } });
    if (answer.ok) { location.assign("/ui"); return; }
    const body = await answer.json().catch(() => ({}));
    say((body.error && body.error.message) || "The relay refused the sign-in (" + answer.status + ").");
  } catch (error) {
    say("Sign-in did not finish: " + ((error && (error.errorMessage || error.message)) || String(error)));
  }
  button.disabled = false;
}
document.addEventListener("click", async (event) => {
  const signIn = event.target.closest("button[data-entra-sign-in]");
  if (signIn) { await signInWithEntra(signIn); return; }
  const retry = event.target.closest("button[data-retry]");
  if (retry) {
    const status = retry.parentElement.querySelector(".retry-state");
    retry.disabled = true;
    status.textContent = "queued";
    const answer = await fetch("/ui/api/runs/" + encodeURIComponent(retry.dataset.retry) + "/retry", { method: "POST", headers });
    if (!answer.ok) { status.textContent = "could not retry (" + answer.status + ")"; retry.disabled = false; return; }
    const state = await follow((await answer.json()).runId, status);
    if (state !== "succeeded") retry.disabled = false;
    return;
  }
  const doctor = event.target.closest("button[data-doctor]");
  if (doctor) {
    doctor.disabled = true;
    document.getElementById("doctor").innerHTML = "<p class=muted>Running the checks…</p>";
    const answer = await fetch("/ui/doctor.html", { headers });
    document.getElementById("doctor").innerHTML = await answer.text();
    doctor.disabled = false;
  }
});
`;
