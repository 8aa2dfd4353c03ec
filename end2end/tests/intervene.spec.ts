// Manual intervention from the trip page. This spec runs its own server
// (the shared ones in playwright.config.ts stay as they are): first with
// the transport agent broken (every call fails, no retries, no failover),
// so that a trip fails on that step; then, on the same database, a healthy
// one — the agent is "mended" — where the trip page's "Try again" beside
// the failed step plans the trip to the end. Then "Check the plan again"
// on the ready trip.
import { test, expect } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EXAMPLES, scrollsSideways, shot, startTrip, waitForHydration, waitForReady } from "./helpers";

const root = path.resolve(__dirname, "..", "..");
const binary = process.env.WAYFARE_BIN ?? path.join(root, "target", "debug", "wayfare");
const port = Number(process.env.WAYFARE_E2E_PORT ?? 3100) + 7;
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(tmpdir(), "wayfare-e2e-intervene-"));

test.use({ baseURL: base });
test.describe.configure({ mode: "serial" });

let server: ChildProcess | undefined;

/** Starts `wayfare serve` on this spec's port and database, with `env`. */
async function serve(env: Record<string, string>) {
  server = spawn(binary, ["serve"], {
    env: {
      ...process.env,
      WAYFARE_LISTEN: `127.0.0.1:${port}`,
      WAYFARE_DATA_DIR: dataDir,
      WAYFARE_DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      WAYFARE_SITE_ROOT: path.join(root, "target", "site"),
      WAYFARE_LOG: "warn",
      WAYFARE_CACHE__ENABLED: "false",
      ...env,
    },
    stdio: "ignore",
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop() {
  const running = server;
  server = undefined;
  if (!running || running.exitCode !== null) return;
  const exited = new Promise((r) => running.once("exit", r));
  running.kill("SIGTERM");
  // A graceful stop waits for open connections: not for long.
  const forced = setTimeout(() => running.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(forced);
}

test.afterAll(stop);

test("a step that failed is tried again from the timeline and the trip is planned", async ({ page }) => {
  await serve({
    WAYFARE_FAULTS__TRANSPORT__ERROR_RATE: "100%",
    WAYFARE_ORCHESTRATOR__RETRY_ATTEMPTS: "0",
    WAYFARE_ORCHESTRATOR__FAILOVER_INSTANCES: "0",
  });
  const id = await startTrip(page, { example: EXAMPLES.oneCity });
  await expect(page.getByTestId("trip-status")).toHaveText("No plan", { timeout: 20_000 });

  // The dashboard lists this browser's failed trip with "Try again": the
  // retry is recorded in the trip's log, and fails again while the agent
  // is still broken.
  await page.goto("/dashboard");
  await waitForHydration(page);
  const row = page.getByTestId("attention").locator("li", { has: page.locator(`a[href="/trips/${id}"]`) });
  await expect(row).toHaveCount(1);
  await row.getByRole("button", { name: "Try again" }).click();
  await expect(page.getByTestId("attention-notice")).toContainText("Planning again");
  await shot(page, "intervene-dashboard-1280");
  await page.goto(`/trips/${id}`);
  await expect(page.getByTestId("trip-status")).toHaveText("No plan", { timeout: 20_000 });
  await page.getByText("How the agents planned it").click();
  await expect(page.getByTestId("timeline").locator("li[data-kind='Intervened']")).toContainText("Planning resumed by you");

  // The agent is mended: a healthy server on the same database.
  await stop();
  await serve({});
  await page.goto(`/trips/${id}`);
  await waitForHydration(page);
  await expect(page.getByTestId("trip-status")).toHaveText("No plan");
  await expect(page.getByTestId("resume-trip")).toBeVisible();
  await page.getByText("How the agents planned it").click();
  const transport = page.getByTestId("tasks").locator("tr[data-agent='transport']");
  await expect(transport.locator("[data-testid='retry-task']")).toBeVisible();
  await expect(transport).toContainText("failed");
  // A required step can be tried again, not left out.
  await expect(transport.locator("[data-testid='skip-task']")).toHaveCount(0);
  await shot(page, "intervene-failed-1280");
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await scrollsSideways(page)).toBe(false);
  await shot(page, "intervene-failed-360");
  await page.setViewportSize({ width: 1280, height: 800 });

  await transport.getByRole("button", { name: "Try Transport again" }).click();
  await waitForReady(page);
  await page.getByText("How the agents planned it").click();
  const timeline = page.getByTestId("timeline");
  await expect(timeline.locator("li[data-kind='Intervened']").last()).toContainText("Transport retried by you");
  await expect(page.getByTestId("tasks").locator("tr[data-agent='transport']")).toHaveAttribute("data-status", "done");
  await shot(page, "intervene-retried-1280");
  await timeline.locator("li[data-kind='Intervened']").last().scrollIntoViewIfNeeded();
  await page.locator(".timeline-card").screenshot({ path: "screenshots/intervene-timeline-1280.png" });

  // The ready trip's plan is checked again; the timeline says who asked.
  await page.getByTestId("reverify").click();
  await expect(page.getByTestId("notice")).toContainText("Checked again:");
  await expect(page.getByTestId("notice")).toContainText("checks passed");
  await expect(timeline.locator("li[data-kind='Intervened']").last()).toContainText("Plan checked again by you");
  await expect(page.getByTestId("trip-status")).toHaveText("Ready");
  await shot(page, "intervene-reverified-1280");
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await scrollsSideways(page)).toBe(false);
  await shot(page, "intervene-reverified-360");
});
