import { test, expect, type Page } from "@playwright/test";
import { EXAMPLES, scrollsSideways, shot, waitForHydration, waitForReady } from "./helpers";

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
  await page.getByRole("button", { name: EXAMPLES.oneCity }).click();
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await waitForReady(page);
  await shot(page, "plan-1280");

  // The trip's own address, rendered on the server, at a phone's width.
  await page.setViewportSize({ width: 360, height: 800 });
  await page.reload();
  await waitForReady(page);
  await shot(page, "plan-360");
  expect(await scrollsSideways(page)).toBe(false);
  expect(violations).toEqual([]);
});

test("a page of another site cannot post to a server function", async ({ page, request }) => {
  await page.goto("/");
  const answer = await request.post("/sfn/plan_trip", {
    headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
    data: "query=3%20days%20from%20Seattle%20to%20Denver",
  });
  expect(answer.status()).toBe(403);
});
