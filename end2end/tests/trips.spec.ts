import { test, expect } from "@playwright/test";
import { EXAMPLES, shot, startTrip, waitForHydration, waitForReady } from "./helpers";

test("my trips lists this browser's trips, and only this browser's", async ({ page, browser }) => {
  const id = await startTrip(page, { example: EXAMPLES.state });
  await waitForReady(page);
  await page.goto("/trips");
  const card = page.locator(`[data-testid="trip-card"][data-trip="${id}"]`);
  await expect(card).toBeVisible();
  await expect(card).toContainText("Chicago → California");
  await expect(card).toContainText("Ready");
  await shot(page, "trips-1280");

  // Another browser (its own cookies) sees none of them, can read the trip
  // by its link, and cannot change or delete it.
  const stranger = await browser.newContext();
  const other = await stranger.newPage();
  await other.goto("/trips");
  await expect(other.getByTestId("no-trips")).toBeVisible();
  await other.goto(`/trips/${id}`);
  await expect(other.getByTestId("plan-summary")).toBeVisible();
  await waitForHydration(other);
  await expect(other.getByRole("button", { name: /^Change/ })).toHaveCount(0);
  await expect(other.getByTestId("delete")).toHaveCount(0);
  // Not through the server functions either.
  const answer = await other.request.post("/sfn/delete_trip", {
    headers: { "Content-Type": "application/json", Origin: new URL(page.url()).origin },
    data: { id },
  });
  expect(answer.status()).toBe(403);
  await stranger.close();
});

test("delete a trip", async ({ page }) => {
  const id = await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  await page.getByTestId("delete").click();
  await page.getByTestId("delete-confirm").click();
  await page.waitForURL(/\/trips$/);
  await expect(page.locator(`[data-trip="${id}"]`)).toHaveCount(0);
  expect((await page.request.get(`/api/trips/${id}`)).status()).toBe(404);
});

test("the agents page shows the registry and refreshes", async ({ page }) => {
  await page.goto("/agents");
  await waitForHydration(page);
  const rows = page.getByTestId("agents").locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  for (const agent of ["location", "planning", "transport", "accommodation", "dining", "activity", "budget", "verifier"]) {
    await expect(page.locator(`tr[data-agent-type="${agent}"]`).first()).toBeVisible();
  }
  const before = Number(await page.getByTestId("agent-totals").getAttribute("data-refreshed"));
  await expect(async () => {
    const now = Number(await page.getByTestId("agent-totals").getAttribute("data-refreshed"));
    expect(now).toBeGreaterThan(before);
  }).toPass({ timeout: 10_000 });
  await shot(page, "agents-1280");
});
