import { test, expect } from "@playwright/test";
import { waitForHydration } from "./hydration";

test("a described trip is planned on the demo catalog, verified and shown day by day", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page
    .getByLabel("Describe your trip")
    .fill("3 days from Seattle to Denver, March 5-7, two of us, $2,000, we love Italian food");
  await page.getByRole("button", { name: "Plan my trip" }).click();

  await expect(page.getByTestId("plan-summary")).toBeVisible();
  await expect(page.getByTestId("plan-summary").getByRole("heading")).toHaveText("Seattle → Denver → Seattle");
  await expect(page.getByTestId("plan-day")).toHaveCount(3);
  // Every verifier check passed, and an Italian meal is in the plan.
  await expect(page.getByTestId("verdict-summary")).toHaveText(/^(\d+)\/\1 checks passed$/);
  await expect(page.getByTestId("verdict")).toContainText("cuisine");
  // Demo records are marked as samples.
  await expect(page.locator(".sample").first()).toBeVisible();
  const total = await page.getByTestId("plan-total").textContent();
  expect(Number(total?.replace(/[^0-9]/g, ""))).toBeLessThanOrEqual(2000);

  // The plan's own address renders the same plan on the server.
  const href = await page.getByTestId("stored-id").getAttribute("href");
  await page.goto(href ?? "/");
  await expect(page.getByTestId("plan-day")).toHaveCount(3);
});

test("a trip that cannot be planned says why", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page
    .getByLabel("Describe your trip")
    .fill("3 days from Seattle to Denver, March 5-7, two of us, $2,000, no flights");
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await expect(page.getByTestId("no-plan")).toBeVisible();
  await expect(page.getByTestId("no-plan")).toContainText("allowing flights would make the trip possible");
});
