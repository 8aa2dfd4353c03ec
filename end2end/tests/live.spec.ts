// Against the second server (faults and 250 ms of latency on every agent,
// no cache): planning takes seconds, so the live timeline, retries,
// cancelling and reconnecting can be watched.
import { test, expect } from "@playwright/test";
import { EXAMPLES, shot, startTrip, waitForReady } from "./helpers";

const slow = `http://127.0.0.1:${Number(process.env.WAYFARE_E2E_PORT ?? 3100) + 1}`;
test.use({ baseURL: slow });

test("the timeline fills in live, with retries, then the plan shows", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await expect(page.getByTestId("trip-status")).toHaveText("Planning");
  await expect(page.getByRole("progressbar")).toBeVisible();
  // Tasks appear as they are scheduled and run, before the plan is ready.
  await expect(page.locator("tr[data-status='working'], tr[data-status='done']").first()).toBeVisible();
  await shot(page, "trip-planning-1280");
  await waitForReady(page);
  // 25% injected faults: across the trip, some attempt failed and was retried.
  const seqs = await page.getByTestId("timeline").locator("li").evaluateAll((l) => l.map((i) => Number(i.getAttribute("data-seq"))));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
});

test("retries show in the timeline under injected faults", async ({ page }) => {
  // Several trips: with 25% faults per call, a retry is all but certain.
  let retried = false;
  for (let i = 0; i < 4 && !retried; i++) {
    await startTrip(page, { example: EXAMPLES.state });
    await waitForReady(page).catch(() => undefined);
    retried = (await page.getByTestId("timeline").locator("li[data-kind='Failed']").count()) > 0;
  }
  expect(retried).toBe(true);
  await expect(page.getByTestId("timeline").locator("li[data-kind='Failed']").first()).toContainText("retrying");
  await page.getByText("How the agents planned it").click();
  await expect(page.getByTestId("tasks").locator("td").filter({ hasText: /^[2-9]$/ }).first()).toBeVisible();
});

test("a dropped event stream reconnects from the last event: no gaps, no duplicates", async ({ page }) => {
  let dropped = 0;
  await page.route("**/sfn/trip_events", async (route) => {
    // Let the first call through for a moment, then cut it; later ones pass.
    if (dropped === 0) {
      dropped++;
      const response = await route.fetch();
      await route.fulfill({ response, body: (await response.text()).split("\n").slice(0, 3).join("\n") + "\n" });
    } else {
      await route.continue();
    }
  });
  await startTrip(page, { example: EXAMPLES.constraints });
  await waitForReady(page);
  expect(dropped).toBe(1);
  const seqs = await page.getByTestId("timeline").locator("li").evaluateAll((l) => l.map((i) => Number(i.getAttribute("data-seq"))));
  expect(new Set(seqs).size).toBe(seqs.length);
  // Every event of the log is there: compare with a fresh page's timeline.
  await page.reload();
  await waitForReady(page);
  const fresh = await page.getByTestId("timeline").locator("li").evaluateAll((l) => l.map((i) => Number(i.getAttribute("data-seq"))));
  expect(seqs).toEqual(fresh);
});

test("cancel planning", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.state });
  await page.getByTestId("cancel").click();
  await expect(page.getByTestId("trip-status")).toHaveText("Cancelled");
  await expect(page.getByTestId("cancelled")).toBeVisible();
});
