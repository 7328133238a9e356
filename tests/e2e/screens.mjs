// Screenshots of every screen of the built app against a running server, at phone size
// (390×844), with Debian's Chromium; axe-core checks each screen for WCAG 2.1 AA problems.
//
//   node screens.mjs http://127.0.0.1:8080 ../../target/screenshots
//
// Signs in as the synthetic demo worker "anna". Exits non-zero on any accessibility violation.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const [base = "http://127.0.0.1:8080", out = "../../target/screenshots"] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
const page = await context.newPage();
page.on("pageerror", (error) => console.error("page error:", error.message));
page.on("console", (message) => {
  if (message.type() === "error" || message.type() === "warning") console.error("console:", message.text());
});

let violations = 0;
async function screen(name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${out}/phone-${name}.png`, fullPage: false });
  // Evaluated through the DevTools protocol: the app's CSP rightly refuses injected scripts.
  const result = await page.evaluate(
    `${axeSource}; axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })`,
  ).catch((error) => ({ violations: [{ id: "axe-failed", description: String(error), nodes: [] }] }));
  for (const violation of result.violations) {
    violations += 1;
    console.error(`${name}: ${violation.id}: ${violation.description} (${violation.nodes.length} nodes)`);
  }
  console.log(`${name}: ${result.violations.length} accessibility violations`);
}

await page.goto(base);
await page.waitForSelector("#username");
await screen("signin");
await page.fill("#username", "anna");
await page.fill("#password", "demo-anna-2026");
await page.click("button[type=submit]");
await page.waitForSelector(".card.household", { timeout: 60000 });
await page.waitForFunction(() => document.querySelectorAll(".card.household").length >= 20, null, { timeout: 60000 });
await screen("households");
await page.click(".tab >> nth=1");
await page.waitForSelector("h1");
await screen("today");
await page.click(".tab >> nth=0");
await page.click(".card.household >> nth=0");
await page.waitForSelector("article.household");
await screen("household");
await page.click("a.button.primary.wide");
await page.waitForSelector("form.visit-form");
await screen("visit-form");
await page.click(".chips .chip >> nth=0");
await page.fill("#notes", "Gick igenom brev från Försäkringskassan.");
await page.click("button[type=submit]");
await page.waitForSelector("article.household");
await screen("household-after-visit");

await browser.close();
if (violations > 0) {
  console.error(`${violations} accessibility violations`);
  process.exit(1);
}
