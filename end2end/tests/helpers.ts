import { expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { waitForHydration } from "./hydration";

export { waitForHydration };

/** axe-core finds no serious or critical violation of the WCAG 2 A and AA
 * rules on the page as it is now. */
export async function expectAccessible(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(serious, `${name}: axe violations`).toEqual([]);
}

/** The home page's example requests, by the label of their button. */
export const EXAMPLES = {
  oneCity: "A weekend in Denver",
  state: "Two cities in California",
  constraints: "Road trip with a dog",
} as const;

// A trip id: a UUID v7 (time-ordered, `engine/src/state/ids.rs`); trips made
// before that have v4 ids.
export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;

/** Plans `text` (or clicks the example `example`) from the home page and
 *  answers the new trip's id once its page shows. */
export async function startTrip(page: Page, request: { text?: string; example?: string }) {
  await page.goto("/");
  await waitForHydration(page);
  if (request.example) {
    await page.getByRole("button", { name: request.example }).click();
  } else {
    await page.getByLabel("Describe your trip").fill(request.text ?? "");
  }
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await page.waitForURL(/\/trips\/[0-9a-f-]{36}$/);
  const id = UUID.exec(page.url())?.[0] ?? "";
  expect(id).toMatch(UUID);
  return id;
}

/** Waits for the trip on this page to be ready (its plan shown). */
export async function waitForReady(page: Page) {
  await expect(page.getByTestId("trip-status")).toHaveText("Ready", { timeout: 20_000 });
  await expect(page.getByTestId("plan-summary")).toBeVisible();
  await waitForHydration(page);
}

/** Saves a full-page screenshot under end2end/screenshots/ (ignored by git). */
export async function shot(page: Page, name: string) {
  mkdirSync("screenshots", { recursive: true });
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/** Whether the page scrolls sideways (it must not, down to 360 px). */
export async function scrollsSideways(page: Page) {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}
