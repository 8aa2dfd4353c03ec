// Browser figures for scripts/bench-web.sh. It PRINTS numbers and asserts
// none (a timing assertion on a shared 2-core machine would only be flaky);
// the checks below only make sure each run measured what it says.
//
// Per run, in a fresh browser context (empty HTTP cache, so every run
// downloads and compiles the bundle as a first visit does):
//   - a ready trip's server-rendered page: time to first byte and
//     DOMContentLoaded (Navigation Timing), and the time until the app has
//     hydrated (`<body data-hydrated>`), from navigation start;
//   - on the (hydrated) home page: from the click on "Plan my trip" to the
//     plan shown (`[data-testid="plan-summary"]`), demo catalog.
//
// Env: WAYFARE_BENCH_RUNS (default 7), WAYFARE_BENCH_EXAMPLE (the home
// page's example button, default "A weekend in Denver"),
// WAYFARE_BENCH_JSON (also write the raw figures there).
import { test, expect, type Browser, type Page } from "@playwright/test";
import { writeFileSync } from "node:fs";

const RUNS = Math.max(1, Number(process.env.WAYFARE_BENCH_RUNS ?? 7));
const EXAMPLE = process.env.WAYFARE_BENCH_EXAMPLE ?? "A weekend in Denver";
const TRIP_URL = /\/trips\/[0-9a-f-]{36}$/;

// Runs in every document before its own scripts: a MutationObserver
// registered this early sees the parser's nodes and every later change, so
// the moments are taken in the page itself, not by Playwright's polling.
// Times are absolute (timeOrigin + now) so that they compare across a full
// navigation as well as a client-side one.
const PROBE = () => {
  const w = window as unknown as Record<string, number | undefined>;
  const now = () => performance.timeOrigin + performance.now();
  const look = () => {
    if (w.__hydratedAt === undefined && document.body?.getAttribute("data-hydrated") === "true") {
      w.__hydratedAt = performance.now(); // from this document's navigation start
    }
    if (w.__planAt === undefined && document.querySelector('[data-testid="plan-summary"]')) {
      w.__planAt = now();
    }
  };
  new MutationObserver(look).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["data-hydrated"],
  });
  // The click on "Plan my trip", in the capture phase: before the app's
  // own handlers run.
  document.addEventListener(
    "click",
    (e) => {
      const b = (e.target as Element | null)?.closest?.("button");
      // Kept in sessionStorage: it outlives a full navigation to the trip.
      if (b && b.textContent?.trim() === "Plan my trip") sessionStorage.setItem("benchClickAt", String(now()));
    },
    true,
  );
};

async function fresh(browser: Browser) {
  const context = await browser.newContext();
  await context.addInitScript(PROBE);
  const page = await context.newPage();
  return { context, page };
}

async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(1);
}

/** Plans the example from a hydrated home page; answers the click-to-plan
 *  time in ms and the trip's path. */
async function planFromHome(page: Page) {
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("button", { name: EXAMPLE }).click();
  await expect(page.getByLabel("Describe your trip")).not.toHaveValue("");
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await page.waitForURL(TRIP_URL);
  await expect(page.getByTestId("plan-summary")).toBeVisible();
  await expect(page.getByTestId("trip-status")).toHaveText("Ready");
  const { clickAt, planAt } = await page.evaluate(() => {
    const w = window as unknown as Record<string, number | undefined>;
    const click = sessionStorage.getItem("benchClickAt");
    sessionStorage.removeItem("benchClickAt");
    return { clickAt: click === null ? undefined : Number(click), planAt: w.__planAt };
  });
  expect(clickAt, "the click on Plan my trip was seen").toBeDefined();
  expect(planAt, "the plan's appearance was seen").toBeDefined();
  return { ms: planAt! - clickAt!, path: new URL(page.url()).pathname };
}

/** Loads a ready trip's page; answers its timings in ms. */
async function loadTrip(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
  await expect(page.getByTestId("plan-summary")).toBeVisible();
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    const w = window as unknown as Record<string, number | undefined>;
    return {
      ttfb: nav.responseStart - nav.startTime,
      dcl: nav.domContentLoadedEventEnd - nav.startTime,
      interactive: w.__hydratedAt ?? NaN,
    };
  });
}

function quantile(xs: number[], q: number) {
  // Nearest rank: with 7 runs the p90 is the slowest run but none.
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

test("web figures", async ({ browser }) => {
  // One untimed round first: the server's first requests (page templates,
  // SQLite pages, the planner's first trip) are not what a visitor meets.
  let tripPath: string;
  {
    const { context, page } = await fresh(browser);
    tripPath = (await planFromHome(page)).path;
    await loadTrip(page, tripPath);
    await context.close();
  }

  const figures = { ttfb: [] as number[], dcl: [] as number[], interactive: [] as number[], plan: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    {
      const { context, page } = await fresh(browser);
      const t = await loadTrip(page, tripPath);
      figures.ttfb.push(t.ttfb);
      figures.dcl.push(t.dcl);
      figures.interactive.push(t.interactive);
      await context.close();
    }
    {
      const { context, page } = await fresh(browser);
      figures.plan.push((await planFromHome(page)).ms);
      await context.close();
    }
    console.log(
      `run ${run + 1}/${RUNS}: ttfb ${figures.ttfb[run].toFixed(0)} ms, DOMContentLoaded ${figures.dcl[run].toFixed(0)} ms, ` +
        `interactive ${figures.interactive[run].toFixed(0)} ms, plan visible ${figures.plan[run].toFixed(0)} ms`,
    );
  }

  const row = (name: string, xs: number[], goal: string, limit?: number) => {
    const med = quantile(xs, 0.5);
    const p90 = quantile(xs, 0.9);
    const met = limit === undefined ? "" : p90 < limit ? "met (p90)" : med < limit ? "met (median only)" : "NOT met";
    return `| ${name} | ${med.toFixed(0)} ms | ${p90.toFixed(0)} ms | ${goal} | ${met} |`;
  };
  const table = [
    `| figure (${RUNS} runs, fresh context each) | median | p90 | goal | |`,
    "|---|---|---|---|---|",
    row("trip page: time to first byte", figures.ttfb, "–"),
    row("trip page: DOMContentLoaded", figures.dcl, "–"),
    row("trip page: hydrated and interactive", figures.interactive, "< 1 s", 1000),
    row(`"Plan my trip" click → plan visible`, figures.plan, "< 1 s", 1000),
  ].join("\n");
  console.log(`\n${table}\n`);
  if (process.env.WAYFARE_BENCH_JSON) {
    writeFileSync(process.env.WAYFARE_BENCH_JSON, JSON.stringify({ runs: RUNS, example: EXAMPLE, figures, table }, null, 2));
  }
});
