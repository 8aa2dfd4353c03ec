import { test, expect, type Page } from "@playwright/test";
import { EXAMPLES, shot, startTrip, waitForReady } from "./helpers";

/** The name shown for component `id`. */
async function nameOf(page: Page, id: string) {
  return (await page.locator(`li.item[data-component="${id}"] > .what > .name`).first().textContent())?.trim() ?? "";
}

/** Opens "Change" on the first item of `kind`, picks the first alternative,
 *  and checks that it, and only what depends on it, changed. */
async function changeFirst(page: Page, kind: string) {
  const item = page.locator(`li.item[data-kind="${kind}"]`).first();
  const id = (await item.getAttribute("data-component")) ?? "";
  const before = await nameOf(page, id);
  const others = await page.locator("li.item").evaluateAll((items) =>
    items.map((i) => [i.getAttribute("data-component"), i.querySelector(".what")?.textContent?.trim()]),
  );
  await item.getByRole("button", { name: /^Change/ }).click();
  const panel = page.getByTestId("alternatives");
  await expect(panel.getByRole("button", { name: /^Choose/ }).first()).toBeVisible();
  await panel.getByRole("button", { name: /^Choose/ }).first().click();
  await expect(page.getByTestId("notice")).toContainText("Applied");
  await expect(page.locator(`li.item[data-component="${id}"]`).first()).toHaveClass(/changed/);
  const after = await nameOf(page, id);
  expect(after).not.toBe(before);
  // Everything else that changed is marked, and most of the plan did not.
  const changed = await page.locator("li.item.changed").count();
  expect(changed).toBeGreaterThanOrEqual(1);
  expect(changed).toBeLessThan(others.length);
  await expect(page.getByTestId("verdict-summary")).toHaveText(/^(\d+)\/\1 checks passed$/);
  return { id, before, after };
}

test("change a stay, a meal and an attraction; undo the last", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  await changeFirst(page, "stay");
  await changeFirst(page, "dinner");
  const { id, before } = await changeFirst(page, "visit");
  await shot(page, "trip-changed-1280");
  await page.getByTestId("undo").click();
  await expect(page.getByTestId("notice")).toContainText("Applied");
  expect(await nameOf(page, id)).toBe(before);
  await expect(page.getByTestId("verdict-summary")).toHaveText(/^(\d+)\/\1 checks passed$/);
});

test("change a transport leg, and undo it", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const { id, before } = await changeFirst(page, "transport");
  await page.getByTestId("undo").click();
  await expect(page.getByTestId("notice")).toContainText("Applied");
  expect(await nameOf(page, id)).toBe(before);
});

test("a leg's alternatives keep the request's rules", async ({ page }) => {
  // No flights, and self-driving cannot be mixed with taxis: nothing else fits.
  await startTrip(page, { example: EXAMPLES.constraints });
  await waitForReady(page);
  const leg = page.locator(`li.item[data-kind="transport"]`).first();
  await expect(leg).not.toContainText("Flight");
  await leg.getByRole("button", { name: /^Change/ }).click();
  await expect(page.getByTestId("alternatives")).toContainText("Nothing else fits");
});

test("another one takes the next alternative", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const item = page.locator(`li.item[data-kind="lunch"]`).first();
  const id = (await item.getAttribute("data-component")) ?? "";
  const before = await nameOf(page, id);
  await item.getByRole("button", { name: /^Change/ }).click();
  await page.getByTestId("another").click();
  await expect(page.getByTestId("notice")).toContainText("Applied");
  expect(await nameOf(page, id)).not.toBe(before);
});

test("changing the budget re-plans after a confirmation, and can be undone", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  await page.getByLabel("Budget (USD)").fill("3000");
  await page.getByRole("button", { name: "Set" }).nth(1).click();
  // The confirmation says what would be re-planned (a dry run).
  await expect(page.getByTestId("confirm-change")).toContainText("This changes the budget");
  await expect(page.getByTestId("confirm-change")).toContainText(/re-runs .*budget/);
  await page.getByRole("button", { name: "Re-plan" }).click();
  await expect(page.getByTestId("notice")).toBeVisible();
  await expect(page.getByTestId("understood")).toContainText("Budget $3,000");
  await page.getByTestId("undo").click();
  await expect(page.getByTestId("understood")).toContainText("Budget $2,000");
});

test("adding and removing rules re-plans the whole trip, and can be undone", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const rules = page.getByTestId("trip-rules");
  // The request's own rule is ticked: "We love Italian food".
  await expect(rules.getByLabel("Italian food")).toBeChecked();
  await rules.getByLabel("Italian food").uncheck();
  await rules.getByLabel("Mexican food").check();
  await rules.getByLabel("Room").selectOption({ label: "Not a shared room" });
  await shot(page, "trip-rules");
  await rules.getByRole("button", { name: "Apply the rules" }).click();
  await expect(page.getByTestId("confirm-change")).toContainText("This changes the trip's rules");
  await expect(page.getByTestId("confirm-change")).toContainText(/route planning/);
  await page.getByRole("button", { name: "Re-plan" }).click();
  const understood = page.getByTestId("understood");
  await expect(understood).toContainText("Meals to include: Mexican");
  await expect(understood).toContainText("Stay in a room not shared with others");
  await expect(understood).not.toContainText("Italian");
  await expect(page.getByTestId("verdict-summary")).toHaveText(/^(\d+)\/\1 checks passed$/);
  const trip = await (await page.request.get(page.url().replace("/trips/", "/api/trips/"))).json();
  expect(trip.intent.constraints).toMatchObject({ cuisines: ["Mexican"], room_type: "not_shared" });
  // The verifier checked the new rules: every stay is a room of its own.
  expect(trip.verdict.checks.map((c: { name: string }) => c.name)).toContain("room_type");
  await page.getByTestId("undo").click();
  await expect(understood).toContainText("Meals to include: Italian");
  await expect(understood).not.toContainText("not shared");
  await expect(rules.getByLabel("Italian food")).toBeChecked();
});

test("moving the dates lists what it re-plans, and Cancel leaves the trip as it was", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const version = (await (await page.request.get(page.url().replace("/trips/", "/api/trips/"))).json()).version;
  await page.getByLabel("First day").fill("2027-05-21");
  await page.getByRole("button", { name: "Move" }).click();
  await expect(page.getByTestId("confirm-change")).toContainText(/route planning.*transport/);
  await page.getByTestId("confirm-change").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("confirm-change")).toHaveCount(0);
  const after = (await (await page.request.get(page.url().replace("/trips/", "/api/trips/"))).json()).version;
  expect(after).toBe(version);
});

test("a change made in another tab is a conflict that offers a reload", async ({ page, context }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const other = await context.newPage();
  await other.goto(page.url());
  await waitForReady(other);
  // The first tab changes the dinner; the second, still on the old
  // version, then tries to change a lunch.
  await changeFirst(page, "dinner");
  const lunch = other.locator(`li.item[data-kind="lunch"]`).first();
  await lunch.getByRole("button", { name: /^Change/ }).click();
  await other.getByTestId("alternatives").getByRole("button", { name: /^Choose/ }).first().click();
  await expect(other.getByTestId("conflict")).toContainText("changed somewhere else");
  await other.getByRole("button", { name: "Reload the trip" }).click();
  await expect(other.getByTestId("conflict")).toHaveCount(0);
  const dinner = page.locator(`li.item[data-kind="dinner"]`).first();
  const id = (await dinner.getAttribute("data-component")) ?? "";
  expect(await nameOf(other, id)).toBe(await nameOf(page, id));
});

test("rate the plan", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  await page.locator("label[for='star-4']").click();
  await page.getByRole("button", { name: "Send rating" }).click();
  await expect(page.getByTestId("rated")).toHaveText("Thank you: 4 of 5.");
  const metrics = await (await page.request.get("/metrics")).text();
  expect(metrics).toMatch(/wayfare_ratings_total\s+[1-9]/);
});

test("the calendar export has one event per item", async ({ page }) => {
  const id = await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const items = await page.locator("li.item").count();
  const download = page.waitForEvent("download");
  await page.getByTestId("export-ics").click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.ics$/);
  const body = await (await page.request.get(`/api/trips/${id}/calendar.ics`)).text();
  expect(body.startsWith("BEGIN:VCALENDAR")).toBe(true);
  const events = body.match(/^BEGIN:VEVENT/gm)?.length ?? 0;
  // Stays are one event per continuous stay, not per night.
  const stayNights = await page.locator(`li.item[data-kind="stay"]`).count();
  const stays = new Set(
    await page.locator(`li.item[data-kind="stay"]`).evaluateAll((l) => l.map((i) => i.getAttribute("data-component"))),
  ).size;
  expect(events).toBe(items - stayNights + stays);
});
