import { test, expect } from "@playwright/test";
import { EXAMPLES, UUID, shot, startTrip, waitForHydration, waitForReady } from "./helpers";

for (const [name, label] of Object.entries(EXAMPLES)) {
  test(`the example "${label}" plans on the demo catalog, with the agents' work shown`, async ({ page }) => {
    const id = await startTrip(page, { example: label });
    await waitForReady(page);
    // The agents' tasks, each with its priority, and the timeline.
    const tasks = page.getByTestId("tasks").locator("tbody tr");
    await expect(tasks).toHaveCount(9);
    for (const agent of ["location", "planning", "transport", "accommodation", "dining", "activity", "budget", "verifier"]) {
      await expect(page.locator(`tr[data-agent="${agent}"]`)).toHaveAttribute("data-status", "done");
    }
    await expect(page.getByTestId("timeline").locator("li[data-kind='Ready']")).toHaveCount(1);
    // The plan: days, every check passed, within budget.
    await expect(page.getByTestId("plan-day").first()).toBeVisible();
    await expect(page.getByTestId("verdict-summary")).toHaveText(/^(\d+)\/\1 checks passed$/);
    await expect(page.getByTestId("verdict")).not.toContainText("within_sandbox");
    // The route, drawn from the catalog's coordinates: the trip's cities,
    // and a day's visits in order.
    await expect(page.getByTestId("trip-map").locator("svg")).toBeVisible();
    await expect(page.getByTestId("route-map").first().locator("svg")).toBeVisible();
    const total = Number((await page.getByTestId("plan-total").textContent())?.replace(/[^0-9]/g, ""));
    expect(total).toBeGreaterThan(0);
    // The same trip on the REST API: one planning path.
    const api = await page.request.get(`/api/trips/${id}`);
    expect(api.status()).toBe(200);
    expect((await api.json()).status).toBe("ready");
    await shot(page, `trip-${name}-1280`);
  });
}

test("the one-city example is read as the person wrote it", async ({ page }) => {
  await startTrip(page, { example: EXAMPLES.oneCity });
  await waitForReady(page);
  const understood = page.getByTestId("understood");
  await expect(understood).toContainText("From Seattle to Denver");
  await expect(understood).toContainText("2 travellers");
  await expect(understood).toContainText("Budget $2,000");
  await expect(understood).toContainText("Meals to include: Italian");
  await expect(page.getByTestId("plan-day")).toHaveCount(3);
});

test("a structured field wins over the text", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("button", { name: EXAMPLES.oneCity }).click();
  await page.getByText("Add details (optional)").click();
  await page.getByLabel("Travellers").fill("3");
  await page.getByLabel("The stay must allow").selectOption("pets");
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await page.waitForURL(/\/trips\//);
  await waitForReady(page);
  await expect(page.getByTestId("understood")).toContainText("3 travellers");
  await expect(page.getByTestId("understood")).toContainText("Stays that allow pets");
  // The text's own constraint is kept beside the form's.
  await expect(page.getByTestId("understood")).toContainText("Meals to include: Italian");
});

test("the spending style, pace, interests and children from the form reach the plan", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("button", { name: EXAMPLES.oneCity }).click();
  await page.getByText("Add details (optional)").click();
  await page.getByLabel("Spending").selectOption("luxury");
  await page.getByLabel("Pace").selectOption("relaxed");
  await page.getByLabel("Interests").fill("Museums, parks, jazz");
  await page.getByLabel("Travellers").fill("3");
  await page.getByLabel("Of whom children").fill("1");
  await shot(page, "form-details-1280");
  await page.setViewportSize({ width: 360, height: 800 });
  await shot(page, "form-details-360");
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await page.waitForURL(/\/trips\//);
  await waitForReady(page);
  const understood = page.getByTestId("understood");
  await expect(understood).toContainText("Luxury");
  await expect(understood).toContainText("A relaxed pace");
  await expect(understood).toContainText(/Interests: (food and wine, )?museums and history, parks and nature, jazz/);
  await expect(understood).toContainText("3 travellers, one of them a child");
  // What the text alone implied is not assumed once a field said otherwise.
  await expect(understood).not.toContainText("Comfortable spending");
  await expect(understood).not.toContainText("2 people");
  await shot(page, "trip-wishes-1280");
  const trip = await (await page.request.get(page.url().replace("/trips/", "/api/trips/"))).json();
  expect(trip.intent.budget_level).toBe("luxury");
  expect(trip.intent.pace).toBe("relaxed");
  expect(trip.intent.interests).toEqual(expect.arrayContaining(["culture", "nature"]));
  expect(trip.intent.preferences).toContain("jazz");
  expect(trip.intent.children).toBe(1);
  // A relaxed pace: at most two visits on a day without travel.
  for (const day of trip.itinerary.days) {
    if (day.transport.length === 0) expect(day.attractions.length).toBeLessThanOrEqual(2);
  }
});

test("a request that says too little asks on the trip's page, and the answer plans the same trip", async ({ page }) => {
  const text = "A relaxing few days somewhere with good food, two of us";
  const id = await startTrip(page, { text });
  await expect(page.getByTestId("trip-status")).toHaveText("Needs your input");
  const questions = page.getByTestId("questions");
  await expect(questions.locator("li").first()).toBeVisible();
  await expect(page.locator(".query")).toHaveText(text);
  await waitForHydration(page);
  await shot(page, "trip-questions-1280");
  await questions.getByLabel("From").fill("Seattle");
  await questions.getByLabel("To (a city or a state)").fill("Denver");
  await questions.getByLabel("First day").fill("2027-05-14");
  await questions.getByLabel("Days").fill("3");
  await questions.getByLabel("Budget (USD)").fill("2500");
  await questions.getByRole("button", { name: "Plan with these" }).click();
  await waitForReady(page);
  expect(page.url()).toContain(id);
  await expect(page.getByTestId("understood")).toContainText("From Seattle to Denver");
  await expect(page.getByTestId("understood")).toContainText("2 travellers");
});

test("keyboard only: choose an example, plan, and reach the plan", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  // Tab to the first example and press it, then tab on to the button.
  const example = page.getByRole("button", { name: EXAMPLES.oneCity });
  for (let i = 0; i < 20 && !(await example.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(example).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Describe your trip")).toHaveValue(/Seattle to Denver/);
  const plan = page.getByRole("button", { name: "Plan my trip" });
  for (let i = 0; i < 40 && !(await plan.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(plan).toBeFocused();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/trips\//);
  await waitForReady(page);
});

test("text from the request is shown as text, never as HTML", async ({ page }) => {
  const hostile = `3 days from Seattle to Denver <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> May 14-16 2027, 2 people, $2,000`;
  await startTrip(page, { text: hostile });
  await expect(page.locator(".query")).toContainText("<img src=x");
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await expect(page.locator(".query img")).toHaveCount(0);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a trip is planned from the form and its plan reads in the HTML", async ({ page }) => {
    await page.goto("/");
    await page.getByLabel("Describe your trip").fill(
      "A 3-day trip from Seattle to Denver, May 14-16, 2027, for two of us with a budget of $2,000.",
    );
    await page.getByRole("button", { name: "Plan my trip" }).click();
    await page.waitForURL(/\/trips\//);
    expect(page.url()).toMatch(UUID);
    // Planning takes milliseconds; a reload shows the finished plan.
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId("trip-status")).toHaveText("Ready", { timeout: 500 });
    }).toPass({ timeout: 15_000 });
    await expect(page.getByTestId("plan-day")).toHaveCount(3);
    await expect(page.getByTestId("verdict-summary")).toHaveText(/checks passed/);
  });
});

test("an unknown trip says so", async ({ page }) => {
  const answer = await page.goto("/trips/00000000-0000-4000-8000-000000000000");
  await expect(page.getByRole("alert")).toContainText("nothing was found");
  expect(answer?.status()).toBe(404);
});
