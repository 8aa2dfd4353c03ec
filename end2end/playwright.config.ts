// Playwright drives Debian's Chromium (`npx playwright install` cannot
// download browsers on our machines) against the real `wayfare` binary,
// started here with a fresh temporary database.
import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "..");
const port = Number(process.env.WAYFARE_E2E_PORT ?? 3100);
const dataDir = mkdtempSync(path.join(tmpdir(), "wayfare-e2e-"));
// A second server, with faults and latency injected into every agent and
// no request cache: trips take seconds, fail and retry (tests/live.spec.ts).
const slowPort = port + 1;
const slowDir = mkdtempSync(path.join(tmpdir(), "wayfare-e2e-slow-"));
const binary = process.env.WAYFARE_BIN ?? path.join(root, "target", "debug", "wayfare");
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: chromium,
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
  webServer: [
    {
      command: `${binary} serve`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        WAYFARE_LISTEN: `127.0.0.1:${port}`,
        WAYFARE_DATA_DIR: dataDir,
        WAYFARE_DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
        WAYFARE_SITE_ROOT: path.join(root, "target", "site"),
        WAYFARE_LOG: "info",
      },
    },
    {
      command: `${binary} serve`,
      url: `http://127.0.0.1:${slowPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        WAYFARE_LISTEN: `127.0.0.1:${slowPort}`,
        WAYFARE_DATA_DIR: slowDir,
        WAYFARE_DATABASE_URL: `sqlite://${slowDir}/e2e.db`,
        WAYFARE_SITE_ROOT: path.join(root, "target", "site"),
        WAYFARE_LOG: "info",
        WAYFARE_CACHE__ENABLED: "false",
        WAYFARE_FAULTS__ALL__ERROR_RATE: "25%",
        WAYFARE_FAULTS__ALL__ADDED_LATENCY: "250ms",
      },
    },
  ],
});
