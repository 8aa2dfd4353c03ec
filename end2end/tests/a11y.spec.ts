// Every page: axe-core finds no serious or critical violation (WCAG 2 A
// and AA rules), and at 360 px nothing scrolls sideways. Screenshots of
// each page at 1280 and 360 px go to end2end/screenshots/.
import { test, expect, type Page } from "@playwright/test";
import { EXAMPLES, expectAccessible, scrollsSideways, shot, startTrip, waitForHydration, waitForReady } from "./helpers";

// axe runs take seconds each on a loaded 2-core machine.
test.setTimeout(180_000);

async function check(page: Page, name: string, url: string, ready: (page: Page) => Promise<void>) {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    if (scheme === "light") {
      // Wide: light only (the colours are the same rules as at 360 px).
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(url);
      await ready(page);
      await expectAccessible(page, `${name} (${scheme})`);
      await shot(page, `${name}-1280`);
    }
    await page.setViewportSize({ width: 360, height: 780 });
    await page.goto(url);
    await ready(page);
    expect(await scrollsSideways(page), `${name} scrolls sideways at 360 px`).toBe(false);
    await expectAccessible(page, `${name} at 360 px (${scheme})`);
    await shot(page, `${name}-360-${scheme}`);
  }
}

test("the home page", async ({ page }) => {
  await check(page, "home", "/", waitForHydration);
});

test("a ready trip, with a change open", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.state });
  await waitForReady(page);
  const url = page.url();
  await check(page, "trip", url, waitForReady);
  await page.locator("li.item[data-kind='stay']").first().getByRole("button", { name: /^Change/ }).click();
  await expect(page.getByTestId("alternatives").getByRole("button", { name: /^Choose/ }).first()).toBeVisible();
  await expectAccessible(page, "trip with alternatives");
  expect(await scrollsSideways(page)).toBe(false);
  await shot(page, "trip-alternatives-360");
});

test("a trip that needs input", async ({ page }) => {
  await startTrip(page, { text: "Somewhere sunny for a few days, two of us" });
  await expect(page.getByTestId("questions")).toBeVisible();
  await check(page, "questions", page.url(), waitForHydration);
});

test("my trips and the agents page", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  await check(page, "trips", "/trips", waitForHydration);
  await check(page, "agents", "/agents", async (p) => {
    await waitForHydration(p);
    await expect(p.getByTestId("agents")).toBeVisible();
  });
});
