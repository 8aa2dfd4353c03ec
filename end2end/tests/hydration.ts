import { expect, type Page } from "@playwright/test";

/** Waits until the page is hydrated: the app marks `<body>` once its
 *  WebAssembly has taken over (an effect, which only runs in the browser). */
export async function waitForHydration(page: Page) {
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(1, { timeout: 20_000 });
}
