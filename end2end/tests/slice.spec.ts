import { test, expect } from "@playwright/test";
import { waitForHydration } from "./hydration";

test("the page hydrates: the character counter follows typing", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Describe your trip" })).toBeVisible();
  // Only the WebAssembly bundle updates the counter; server-rendered HTML alone cannot.
  await waitForHydration(page, "Denver");
  await expect(page.getByTestId("counter")).toHaveText("6 / 4000 characters");
});

test("a trip request is stored, shown, and readable at its own address", async ({ page }) => {
  const query = `3 days from Seattle to Denver, two of us, $2,000 — e2e ${Date.now()}`;
  await page.goto("/");
  // Wait for hydration so the form is submitted by the action, not by a reload.
  await waitForHydration(page);
  await page.getByLabel("Describe your trip").fill(query);
  const navigations: string[] = [];
  page.on("framenavigated", (frame) => navigations.push(frame.url()));
  await page.getByRole("button", { name: "Plan my trip" }).click();

  const stored = page.getByTestId("stored-request");
  await expect(stored).toBeVisible();
  await expect(page.getByTestId("stored-query")).toHaveText(query);
  expect(navigations, "submitting must not reload the page once hydrated").toEqual([]);

  const id = (await page.getByTestId("stored-id").textContent())?.trim() ?? "";
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  // A fresh load of its address is rendered from the database on the server.
  await page.goto(`/requests/${id}`);
  await expect(page.getByTestId("stored-query")).toHaveText(query);
});

test("an empty request is refused with a readable message", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page, "   ");
  await page.getByRole("button", { name: "Plan my trip" }).click();
  await expect(page.getByRole("alert")).toContainText("request is empty");
});

test("an unknown request id says so", async ({ page }) => {
  await page.goto("/requests/00000000-0000-4000-8000-000000000000");
  await expect(page.getByRole("alert")).toContainText("nothing was found");
});
