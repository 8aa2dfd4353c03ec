// The browser benchmark's own Playwright config: it lives outside tests/
// so that `npx playwright test` (the suite) never runs it, and it starts no
// server: scripts/bench-web.sh starts a release `wayfare serve` and passes
// its address in WAYFARE_BENCH_URL.
//
//   WAYFARE_BENCH_URL=http://127.0.0.1:PORT npx playwright test -c bench/playwright.bench.config.ts
import { defineConfig } from "@playwright/test";

const baseURL = process.env.WAYFARE_BENCH_URL ?? "http://127.0.0.1:3000";
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.bench\.ts$/,
  // N runs of several page loads and plans on a noisy 2-core machine.
  timeout: 15 * 60_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "off",
    launchOptions: {
      executablePath: chromium,
      // The suite's flags (playwright.config.ts), so both drive the same browser.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
