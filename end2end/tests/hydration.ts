import { expect, type Page } from "@playwright/test";

/** Types `probe` into the request box until the WASM-driven counter follows,
 *  i.e. until the page has hydrated; leaves `probe` in the box. */
export async function waitForHydration(page: Page, probe = "x") {
  const box = page.getByLabel("Describe your trip");
  const expected = `${probe.trim().length} / 4000 characters`;
  await expect(async () => {
    await box.fill("");
    await box.pressSequentially(probe);
    await expect(page.getByTestId("counter")).toHaveText(expected, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
}
