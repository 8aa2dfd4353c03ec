import { test, expect } from "@playwright/test";

// The bundle travels compressed: scripts/build-site.sh writes a `.gz` copy
// of each file, which the server sends to a client that accepts gzip — with
// the file's own content type, and the same bytes once decompressed.
test("the bundle is sent gzip-compressed to a browser that accepts it", async ({ request }) => {
  for (const [path, type] of [
    ["/pkg/wayfare_bg.wasm", "application/wasm"],
    ["/pkg/wayfare.js", "javascript"],
    ["/pkg/wayfare.css", "text/css"],
  ]) {
    const gz = await request.get(path, { headers: { "accept-encoding": "gzip" } });
    expect(gz.status(), path).toBe(200);
    expect(gz.headers()["content-encoding"], path).toBe("gzip");
    expect(gz.headers()["content-type"], path).toContain(type);
    const plain = await request.get(path, { headers: { "accept-encoding": "identity" } });
    expect(plain.status(), path).toBe(200);
    expect(plain.headers()["content-encoding"], path).toBeUndefined();
    // Playwright decompresses: a stale `.gz` would differ from the file.
    expect(Buffer.compare(await gz.body(), await plain.body()), path).toBe(0);
  }
});
