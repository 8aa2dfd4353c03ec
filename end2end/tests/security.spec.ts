import { test, expect, type Page } from "@playwright/test";
import { waitForHydration } from "./hydration";

/** Collects what the browser reports as blocked by the page's
 *  Content-Security-Policy (console messages and violation events). */
function collectCspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  return violations;
}

test("pages hydrate under their Content-Security-Policy with nothing blocked", async ({ page }) => {
  const violations = collectCspViolations(page);
  const response = await page.goto("/");
  const headers = response?.headers() ?? {};
  expect(headers["content-security-policy"]).toMatch(/script-src [^;]*'nonce-/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  // The WASM bundle loads and takes over the page: scripts, wasm and
  // styles are all allowed by the policy.
  await waitForHydration(page);
  await page
    .getByLabel("Describe your trip")
    .fill("3 days from Seattle to Denver, March 5-7, two of us, $2,000, we love Italian food");
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await expect(page.getByTestId("plan-summary")).toBeVisible();
  await page.screenshot({ path: "screenshots/plan-1280.png", fullPage: true });

  // The plan's own address, rendered on the server, at a phone's width.
  const href = await page.getByTestId("stored-id").getAttribute("href");
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto(href ?? "/");
  await expect(page.getByTestId("plan-day").first()).toBeVisible();
  await page.screenshot({ path: "screenshots/plan-360.png", fullPage: true });
  expect(violations).toEqual([]);
});

test("a page of another site cannot post to a server function", async ({ page, request }) => {
  await page.goto("/");
  const answer = await request.post("/sfn/submit_request", {
    headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    data: "query=3%20days%20from%20Seattle%20to%20Denver",
  });
  expect(answer.status()).toBe(403);
});
