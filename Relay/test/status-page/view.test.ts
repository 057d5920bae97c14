// The status page's pure parts: latency percentiles per time bucket, the chart's window, escaping.
import { chartSpan, escapeHtml, latencyChart, latencySeries, statusPage, type RunView } from "../../src/status-page/view.ts";

const now = new Date("2026-12-03T12:00:00Z");
const run = (minutesAgo: number, tookMs: number, state = "succeeded", subject = `opportunity:${minutesAgo}`): RunView => {
  const finishedAt = new Date(now.getTime() - minutesAgo * 60_000);
  return { id: `run-${minutesAgo}-${tookMs}`, subject, state, attempts: 1, queuedAt: new Date(finishedAt.getTime() - tookMs), finishedAt, lastError: null, whatToDo: null };
};

test("p50 and p95 per bucket, finished runs only, oldest bucket first", () => {
  const runs = [run(50, 100), run(50, 200), run(50, 300), run(50, 4000), run(5, 800), { ...run(5, 999), state: "running", finishedAt: null }];
  const points = latencySeries(runs, now, { spanMs: 3600_000, buckets: 12 });
  expect(points).toEqual([
    { at: new Date("2026-12-03T11:10:00Z"), count: 4, p50Ms: 200, p95Ms: 4000 },
    { at: new Date("2026-12-03T11:55:00Z"), count: 1, p50Ms: 800, p95Ms: 800 },
  ]);
});

test("the chart shows the shortest window that holds the last 24 hours' syncs", () => {
  expect(chartSpan([run(3, 100)], now).label).toBe("15 min ago");
  expect(chartSpan([run(3, 100), run(50, 100)], now).label).toBe("1 h ago");
  expect(chartSpan([run(300, 100)], now).label).toBe("6 h ago");
  expect(chartSpan([], now).label).toBe("15 min ago");
  expect(latencyChart([], now)).toContain("No syncs finished");
});

test("a failure is listed until a newer run of the same deal exists; text is escaped", () => {
  const failed = { ...run(30, 100, "failed", "opportunity:a"), lastError: "<script>alert(1)</script>" };
  const html = statusPage({ now, runs: [failed], queue: [], doctor: undefined });
  expect(html).toContain(`data-retry="${failed.id}"`);
  expect(html).not.toContain("<script>alert");
  expect(html).toContain(escapeHtml("<script>alert(1)</script>"));
  const retried = statusPage({ now, runs: [run(1, 100, "succeeded", "opportunity:a"), failed], queue: [], doctor: undefined });
  expect(retried).toContain("Failures (0)");
});
