// The supervisor's desk end to end, at 1440×900 in Debian's Chromium against the real built
// app and the real server: every desk view with axe-core, a visit recorded on a phone showing
// up in the tertial report and its CSV, an assignment moving a household's access, and the
// quarantine: a change the server refused from a phone, accepted (it syncs) or rejected (the
// phone continues from the server's copy and keeps what it did not take, to copy). Run by `cargo xtask test` (`node --test`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ANNA,
  addToCaseload,
  check,
  householdId,
  launch,
  newDocumentId,
  openHousehold,
  phone,
  reconnectAndReadClock,
  recordsOf,
  recordVisit,
  reloadAndUnlock,
  SARA,
  signIn,
  skewServerClock,
  startServer,
  status,
  unlock,
  waitForHouseholds,
  waitSynced,
} from "./harness.mjs";

const DESKTOP = { width: 1440, height: 900 };
/** The demo gives Anna and Omar 20 households each; Sara supervises both districts. */
const ALL_HOUSEHOLDS = 40;

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** The overview's count line: "Visar 40 av 40 hushåll som matchar (40 totalt)." */
async function overviewCounts(page) {
  const text = await page.locator("section.desk-overview p[role=status]").innerText();
  const [shown, matching, total] = text.match(/\d+/g).map(Number);
  return { shown, matching, total };
}

/** A supervisor at a desktop, signed in, with every household of her districts synced. */
async function desk() {
  const one = await phone(browser, server.base, DESKTOP);
  const { page } = one;
  await page.goto("/");
  await page.waitForSelector("#username");
  await page.fill("#username", SARA.username);
  await page.fill("#password", SARA.password);
  await page.click("button[type=submit]");
  await page.waitForSelector("section.desk-overview");
  await page.waitForFunction(
    (count) => document.querySelectorAll("table.desk-table tbody tr").length >= count,
    ALL_HOUSEHOLDS,
    { timeout: 90_000 },
  );
  await waitSynced(page);
  return one;
}

/** Opens a desk tab by its visible name and waits for its heading. */
async function tab(page, name, heading) {
  await page.locator("nav .tab", { hasText: name }).click();
  await page.locator("main h1", { hasText: heading }).waitFor();
}

/** The report's "visits done" figure, once the report is computed. */
async function visitsDone(page) {
  await page.locator("dd.visits-done").waitFor({ timeout: 60_000 });
  return Number(await page.locator("dd.visits-done").innerText());
}

/** Downloads one report table's CSV and returns it as rows of cells. */
async function reportCsv(page, table) {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(`.report-table[data-table=${table}] button.csv`).click(),
  ]);
  const text = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
  return text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.split(","));
}

test("every desk view at 1440×900, with no accessibility violations", async () => {
  const one = await desk();
  const { page } = one;
  const all = await overviewCounts(page);
  assert.equal(all.total, ALL_HOUSEHOLDS);
  assert.equal(all.matching, ALL_HOUSEHOLDS);
  await check(page, "desk-overview");

  // Filtering by district leaves Anna's twenty.
  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("district-norrmalm");
  await page.waitForFunction(() => /Visar 20 av 20/.test(document.querySelector("section.desk-overview p[role=status]").innerText));
  await page.locator(".filters label", { hasText: "Sortera efter" }).locator("select").selectOption("last_visit");
  await check(page, "desk-overview-norrmalm-by-last-visit");
  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("");

  // A household opens to read, every control disabled, and from there to edit.
  await page.locator("table.desk-table a.household-link").first().click();
  await page.waitForSelector("article.household h1");
  assert.ok(await page.locator("fieldset.read-only-frame select").first().isDisabled());
  await check(page, "desk-household-read-only");
  await page.locator(".read-only-note a").click();
  await page.waitForSelector("article.household a.button.primary");
  await check(page, "desk-household-edit");

  await tab(page, "Arbetsbelastning", "Arbetsbelastning");
  const workload = await page.locator("table.desk-table tbody tr").allInnerTexts();
  assert.ok(workload.some((row) => row.startsWith("Anna")), workload.join("\n"));
  await check(page, "desk-workload");

  await tab(page, "Planer", "Planernas framsteg");
  await page.locator("table.desk-table tbody tr.total").waitFor({ timeout: 60_000 });
  await check(page, "desk-plans");
  // The plans as they stood a year ago: read from history.
  const yearAgo = new Date(Date.now() - 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.locator(".filters input[type=date]").fill(yearAgo);
  await page.locator(".filters input[type=date]").dispatchEvent("change");
  await page.locator("p.meta", { hasText: "den " }).waitFor();
  await page.locator("table.desk-table tbody tr.total").waitFor({ timeout: 60_000 });
  await check(page, "desk-plans-a-year-ago");

  await tab(page, "Rapport", "Tertialrapport");
  await visitsDone(page);
  await page.locator(".report-table[data-table=cost_share]").waitFor({ timeout: 60_000 });
  await check(page, "desk-report");
  await page.locator(".report-table[data-table=topics]").scrollIntoViewIfNeeded();
  await check(page, "desk-report-tables");
  await page.locator(".report-table[data-table=cost_share]").scrollIntoViewIfNeeded();
  await check(page, "desk-report-cost-share");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: `${process.env.LOTS_ARTIFACTS ?? "../../target/e2e"}/desk-report-print.png`, fullPage: true });
  await page.emulateMedia({ media: "screen" });

  await tab(page, "Logg", "Åtkomstlogg");
  await page.locator("table.desk-table tbody tr").first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator("main").innerText(), /Loggens kedja är obruten/);
  await check(page, "desk-log");

  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a supervisor's computer runs the desk's app, and one the phone's app started moves to it", async () => {
  const one = await desk();
  const { page } = one;
  const flag = () => page.evaluate(() => localStorage.getItem("lots-signed-in"));
  assert.equal(await flag(), "desk");
  // The apps started (the page preloads the sign-in's wasm whoever is signed in).
  const wasm = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    const build = path.endsWith(".wasm") ? path.match(/^\/(lots-\w+)-/)?.[1] : undefined;
    if (build !== undefined && build !== "lots-signin") wasm.push(build);
  });
  await page.reload();
  await page.waitForSelector("#unlock-secret");
  await check(page, "desk-unlock");
  await unlock(page, SARA.password);
  await page.waitForSelector("section.desk-overview");
  assert.deepEqual(wasm, ["lots-desk"]);

  // Signed in by an older version, whose flag named no app: the phone's app starts, finds a
  // supervisor, and loads the desk's in its place.
  await page.evaluate(() => localStorage.setItem("lots-signed-in", "1"));
  wasm.length = 0;
  // Unlocked in the phone's app, which then starts the desk's: unlocked again there (the
  // page loads again, which drops the key, by design).
  await page.reload();
  await page.waitForSelector("#unlock-secret");
  await page.fill("#unlock-secret", SARA.password);
  await page.click(".unlock button[type=submit]");
  for (const deadline = Date.now() + 60_000; !wasm.includes("lots-desk"); ) {
    if (Date.now() > deadline) throw new Error(`the desk's app was not loaded: ${wasm}`);
    await page.waitForTimeout(100);
  }
  await unlock(page, SARA.password);
  await page.waitForSelector("section.desk-overview");
  assert.deepEqual(wasm, ["lots-web", "lots-desk"]);
  assert.equal(await flag(), "desk");
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("the log shows a household the desk opened, and a period of it is marked reviewed with a comment", async () => {
  const supervisor = await desk();
  const { page } = supervisor;
  // Opening a household at the desk is on the log, as shown.
  const link = await page.locator("table.desk-table tbody tr a.household-link").first().getAttribute("href");
  await page.goto(link.replace(/^.*#/, "/#"));
  await page.waitForSelector("article.household h1");
  await tab(page, "Logg", "Åtkomstlogg");
  await page.locator(".filters label", { hasText: "Händelse" }).locator("select").selectOption("read");
  await page.locator("table.desk-table tbody tr", { hasText: "Visade" }).first().waitFor({ timeout: 30_000 });

  const today = new Date().toISOString().slice(0, 10);
  await page.fill("input[type=date] >> nth=0", today);
  await page.fill("input[type=date] >> nth=1", today);
  await page.fill("#log-review-comment", "Granskat: inga avvikelser.");
  await page.click("section.log-review button[type=submit]");
  await page.locator("section.log-review [role=status]", { hasText: "Perioden är markerad som granskad" }).waitFor();
  await page.locator("section.log-review td", { hasText: "Granskat: inga avvikelser." }).waitFor();
  await page.locator("section.log-review").scrollIntoViewIfNeeded();
  await check(page, "desk-log-review");

  assert.deepEqual(supervisor.errors, []);
  await supervisor.context.close();
});

test("a visit recorded on a phone minutes earlier is in the tertial report and its CSV", async () => {
  const supervisor = await desk();
  const { page } = supervisor;
  await tab(page, "Rapport", "Tertialrapport");
  const before = await visitsDone(page);
  const csvBefore = await reportCsv(page, "visits");
  assert.deepEqual(csvBefore[0].slice(0, 3), ["Besök", "Besök", "Personer"]);
  const doneRow = (rows) => rows.find((row) => row[0] === "Genomfört");
  assert.equal(Number(doneRow(csvBefore)[1]), before);

  const field = await phone(browser, server.base);
  await signIn(field.page, ANNA);
  await waitSynced(field.page);
  const id = await householdId(field.page, 0);
  await openHousehold(field.page, id);
  await recordVisit(field.page, id, "Besök som ska synas i tertialrapporten.");
  await waitSynced(field.page);

  await page.waitForFunction(
    (expected) => Number(document.querySelector("dd.visits-done")?.innerText) === expected,
    before + 1,
    { timeout: 30_000 },
  );
  const csvAfter = await reportCsv(page, "visits");
  assert.equal(Number(doneRow(csvAfter)[1]), before + 1);
  await check(page, "desk-report-after-phone-visit");

  for (const one of [supervisor, field]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

test("last tertial's report is filed and shown as filed; a person's copy is reviewed and released with a passage withheld", async () => {
  const supervisor = await desk();
  const { page } = supervisor;
  await tab(page, "Rapport", "Tertialrapport");
  // Last tertial (the second choice), Norrmalm: not filed yet.
  await page.locator(".filters label", { hasText: "Tertial" }).locator("select").selectOption({ index: 1 });
  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("district-norrmalm");
  await page.locator("section.filed", { hasText: "inte inlämnad" }).waitFor();
  await page.locator("section.filed button.primary").click();
  await page.locator("p.filed-basis").waitFor({ timeout: 30_000 });
  const filedDone = await visitsDone(page);
  assert.ok(filedDone > 0, "Norrmalm's visits last tertial are in the filed report");
  await page.locator("section.filed li", { hasText: "Inlämnad" }).waitFor();
  await check(page, "desk-report-filed");
  // Offline, a table is not exported: the export must be on the log first.
  await supervisor.context.setOffline(true);
  const noDownload = page.waitForEvent("download", { timeout: 3_000 }).then(
    () => assert.fail("a CSV was saved offline"),
    () => "none",
  );
  await page.locator(".report-table[data-table=visits] button.csv").click();
  await page.locator(".report-table[data-table=visits] [role=alert]", { hasText: "måste loggas först" }).waitFor();
  assert.equal(await noDownload, "none");
  await supervisor.context.setOffline(false);
  const csv = await reportCsv(page, "visits");
  assert.equal(csv[0][0], "Besök");
  // Today's figures and the filed ones are one click apart.
  await page.locator("section.filed button", { hasText: "Visa dagens siffror" }).click();
  await page.locator("p.filed-basis").waitFor({ state: "detached" });
  assert.equal(await visitsDone(page), filedDone);

  // A person's own copy, from a household opened to read.
  await tab(page, "Översikt", "Alla hushåll");
  await page.locator("table.desk-table a.household-link").first().click();
  await page.waitForSelector("article.household h1");
  await page.locator("section.person-copies a").first().click();
  await page.locator("section.person-copy h1", { hasText: "granskning" }).waitFor({ timeout: 30_000 });
  const passages = await page.locator("article.passage").count();
  assert.ok(passages >= 2, `${passages} passages`);
  await check(page, "desk-person-copy-review");
  const notes = page.locator('article.passage[data-key$="/notes"]').first();
  const withheldKey = (await notes.count()) > 0 ? await notes.getAttribute("data-key") : await page.locator("article.passage").nth(1).getAttribute("data-key");
  await page.locator(`article.passage[data-key="${withheldKey}"] input[type=checkbox]`).check();
  await page.locator(`article.passage[data-key="${withheldKey}"]`).scrollIntoViewIfNeeded();
  await check(page, "desk-person-copy-withhold");
  await page.locator("text=Uppgifter som inte lämnas ut: 1").waitFor();
  await page.locator("section.person-copy button.primary", { hasText: "Lämna ut utdraget" }).click();
  await page.locator("section.person-copy p.notice", { hasText: "Utdraget lämnades ut" }).waitFor();
  await page.locator(`article.passage.withheld[data-key="${withheldKey}"]`, { hasText: "lämnas inte ut" }).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await check(page, "desk-person-copy-released");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("button", { hasText: "Spara som JSON" }).click(),
  ]);
  const saved = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(saved.released, true);
  const withheld = saved.copy.passages.filter((passage) => passage.withheld);
  assert.deepEqual(withheld.map((passage) => passage.key), [withheldKey]);
  assert.deepEqual(withheld[0].fields, []);
  assert.equal(saved.copy.passages.length, passages);

  // Both are on the log, under their own names.
  await tab(page, "Logg", "Åtkomstlogg");
  await page.locator(".filters label", { hasText: "Händelse" }).locator("select").selectOption("person-copy-released");
  await page.locator("table.desk-table tbody tr", { hasText: "Lämnade ut registerutdrag" }).first().waitFor({ timeout: 30_000 });
  // The households the report screen counted are reads, with the report named.
  await page.locator(".filters label", { hasText: "Händelse" }).locator("select").selectOption("read");
  await page.locator("table.desk-table tbody tr", { hasText: "shown=report" }).first().waitFor({ timeout: 30_000 });

  assert.deepEqual(supervisor.errors, []);
  await supervisor.context.close();
});

test("assigning a household to nobody takes it off the staff member's caseload and her phone, and back", async () => {
  const supervisor = await desk();
  const { page } = supervisor;
  const field = await phone(browser, server.base);
  await signIn(field.page, ANNA);
  const caseload = async () =>
    (await (await field.page.request.get("/api/caseload")).json()).map((entry) => entry.document_id);
  const before = await caseload();
  assert.equal(before.length, 20);

  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("district-norrmalm");
  const row = page.locator("table.desk-table tbody tr").first();
  const link = await row.locator("a.household-link").getAttribute("href");
  const id = link.replace(/^.*#\/h\/([^/]+)\/read$/, "$1");
  assert.ok(before.includes(id));
  const assign = page.locator(`table.desk-table tbody tr:has(a[href$="/h/${id}/read"]) select`);
  await assign.selectOption("");
  // The server writes the assignment into the household; it reaches the desk by sync.
  await page.waitForFunction(
    (id) => {
      const select = document.querySelector(`table.desk-table tbody tr:has(a[href$="/h/${id}/read"]) select`);
      return select && select.value === "" && !select.closest("td").innerText.includes("Sparar");
    },
    id,
    { timeout: 30_000 },
  );
  assert.ok(!(await caseload()).includes(id));
  // Her phone lets it go at its next contact: nothing of it stays on the device.
  assert.ok((await recordsOf(field.page, "chunks", id)) > 0, "the phone holds the household");
  await reconnectAndReadClock(field);
  await field.page.waitForFunction((id) => !document.querySelector(`.card.household[href$="${id}"]`), id, { timeout: 30_000 });
  for (const store of ["chunks", "summaries", "sync_states", "dirty"]) {
    assert.equal(await recordsOf(field.page, store, id), 0, `${store} still holds the household`);
  }

  await assign.selectOption("u-anna");
  await page.waitForFunction(
    (id) => document.querySelector(`table.desk-table tbody tr:has(a[href$="/h/${id}/read"]) select`)?.value === "u-anna",
    id,
    { timeout: 30_000 },
  );
  assert.ok((await caseload()).includes(id));
  // Assigned back, it returns to the phone at the next contact.
  await reconnectAndReadClock(field);
  await waitForHouseholds(field.page, 20);
  await field.page.waitForFunction((id) => !!document.querySelector(`.card.household[href$="${id}"]`), id, { timeout: 30_000 });
  await check(page, "desk-overview-after-assignment");

  for (const one of [supervisor, field]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

/** The household's address line, as notices name it ("Storgatan 1, lgh 1101"). */
async function addressOf(page, id) {
  await openHousehold(page, id);
  return (await page.locator("article.household p.meta").first().innerText()).trim();
}

/**
 * Records a visit on the phone with its clock two hours ahead of the server's, so that the
 * server refuses it, and waits for the phone to say so; then puts the clock right and
 * connects again. Returns the household's address.
 */
async function refusedVisit(field, id, notes) {
  const { page } = field;
  const putRight = await skewServerClock(page, 2 * 3600_000);
  await reconnectAndReadClock(field);
  const address = await addressOf(page, id);
  await recordVisit(page, id, notes);
  const notice = page.locator(".notices .notice", { hasText: address });
  await notice.waitFor({ timeout: 30_000 });
  await putRight();
  await reconnectAndReadClock(field);
  return { address, notice };
}

test("a change the server refused: the phone holds it back, the desk accepts one and rejects another", async () => {
  const field = await phone(browser, server.base);
  // Not every one of Anna's twenty: an earlier test moves one away and back.
  await signIn(field.page, ANNA, 10);
  await waitSynced(field.page);
  const [first, second, other] = [await householdId(field.page, 5), await householdId(field.page, 6), await householdId(field.page, 7)];

  // Refused: the phone says which household and why, in words, and keeps what was written.
  const { address, notice } = await refusedVisit(field, first, "Besök med telefonens klocka fel.");
  const text = await notice.innerText();
  assert.match(text, new RegExp(`Servern tog inte emot en ändring i ${address}`));
  assert.match(text, /klocka som gick för långt före serverns/);
  assert.match(text, /Det du skrev finns kvar på telefonen/);
  await field.page.locator(".note", { hasText: "telefonens klocka fel" }).waitFor();
  // Everything else goes on syncing; the status line never says "Synkat" meanwhile.
  await field.page.waitForFunction(
    () => /1 hushåll hålls tillbaka/.test(document.querySelector("header .status")?.innerText) && !/Offline/.test(document.querySelector("header .status")?.innerText),
    null,
    { timeout: 30_000 },
  );
  await recordVisit(field.page, other, "Besök som synkas som vanligt.");
  await field.page.waitForFunction(() => !/väntar/.test(document.querySelector("header .status")?.innerText), null, { timeout: 30_000 });
  assert.doesNotMatch(await status(field.page), /Synkat/);
  // The list: the notice, and the household held back first, saying so.
  await field.page.click(".tab >> nth=0");
  await field.page.locator(".card.household").first().locator(".held-back").waitFor({ timeout: 30_000 });
  await field.page.evaluate(() => window.scrollTo(0, 0));
  await check(field.page, "phone-refused-change");
  // A reload keeps holding it back.
  await reloadAndUnlock(field.page, ANNA.password);
  await field.page.locator(".notices .notice", { hasText: address }).waitFor({ timeout: 30_000 });
  await field.page.locator(".card.household").first().locator(".held-back").waitFor({ timeout: 30_000 });
  await openHousehold(field.page, first);
  await field.page.evaluate(() => window.scrollTo(0, 0));
  await check(field.page, "phone-refused-change-household");

  // The desk lists it; accepting it merges it, and the phone syncs the household again.
  const supervisor = await desk();
  const { page } = supervisor;
  await tab(page, "Karantän", "Nekade ändringar");
  const row = page.locator("table.quarantine tbody tr.pending", { hasText: address });
  await row.waitFor({ timeout: 30_000 });
  const cells = await row.innerText();
  assert.match(cells, /Anna/);
  assert.match(cells, /klocka/);
  assert.match(cells, /Väntar/);
  await check(page, "desk-quarantine");
  await row.locator("button.decide", { hasText: "Godta" }).click();
  await page.locator("p.decided", { hasText: /Godtog \d+ ändring(ar)? i .*/ }).waitFor({ timeout: 30_000 });
  await page.locator("table.quarantine tbody tr", { hasText: address }).locator(".badge", { hasText: "Godtagen" }).first().waitFor();
  await check(page, "desk-quarantine-accepted");
  // The phone hears of the decision (it asks every 20 s) and syncs what waited.
  await waitSynced(field.page, 90_000);
  assert.equal(await field.page.locator(".notices .notice", { hasText: address }).count(), 0);
  // The accepted visit is in the household, on the desk too.
  await page.goto(`/#/h/${first}/read`);
  await page.locator(".note", { hasText: "telefonens klocka fel" }).waitFor({ timeout: 30_000 });

  // Rejected: the phone continues from the server's copy under a fresh author id, makes the
  // later visit again (it was built on the rejected one, so the server refused it too), and
  // keeps what the server did not take as text to copy until the person removes it.
  const rejected = await refusedVisit(field, second, "Besök som arbetsledaren avvisar.");
  await recordVisit(field.page, second, "Besök efter det avvisade.");
  await tab(page, "Karantän", "Nekade ändringar");
  await page.locator("button", { hasText: "Hämta igen" }).click();
  const pending = page.locator("table.quarantine tbody tr.pending", { hasText: rejected.address });
  await pending.waitFor({ timeout: 30_000 });
  await pending.locator("button.decide", { hasText: "Avvisa" }).click();
  await page.locator("p.decided", { hasText: /Avvisade \d+ ändring(ar)? i .*/ }).waitFor({ timeout: 30_000 });
  await check(page, "desk-quarantine-rejected");
  const said = field.page.locator(".notices .kept-notice", { hasText: rejected.address });
  await said.waitFor({ timeout: 60_000 });
  assert.match(await said.innerText(), /En arbetsledare avvisade din ändring/);
  assert.match(await said.innerText(), /1 sak du gjorde efter den avvisade ändringen fördes in igen/);
  // The household syncs again: the later visit reaches the server, the rejected one does not.
  await waitSynced(field.page, 60_000);
  await page.goto(`/#/h/${second}/read`);
  await page.locator(".visits .note", { hasText: "Besök efter det avvisade." }).waitFor({ timeout: 30_000 });
  assert.equal(await page.locator(".visits .note", { hasText: "arbetsledaren avvisar" }).count(), 0);
  // On the phone: the visits as the server has them, and the record of what it did not take.
  await said.locator("a", { hasText: "Visa det du skrev" }).click();
  const kept = field.page.locator("section.kept");
  await kept.waitFor();
  assert.match(await kept.locator("h2").innerText(), /Det du skrev som servern inte tog emot/);
  await kept.locator(".kept-text", { hasText: "Besök som arbetsledaren avvisar." }).waitFor();
  assert.equal(await field.page.locator(".visits .note", { hasText: "arbetsledaren avvisar" }).count(), 0);
  await field.page.locator(".visits .note", { hasText: "Besök efter det avvisade." }).waitFor();
  // The text can be selected as it is, to copy.
  const selected = await kept.locator(".kept-text").first().evaluate((element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return selection.toString();
  });
  assert.equal(selected, "Besök som arbetsledaren avvisar.");
  await kept.scrollIntoViewIfNeeded();
  await check(field.page, "phone-kept-record");
  // Kept across a reload, and signing out waits until the person has removed it.
  await reloadAndUnlock(field.page, ANNA.password);
  await field.page.locator("section.kept .kept-text", { hasText: "arbetsledaren avvisar" }).waitFor({ timeout: 30_000 });
  await waitSynced(field.page, 60_000);
  await field.page.locator("footer button", { hasText: "Logga ut" }).click();
  await field.page.locator(".signout-refused", { hasText: "text som servern inte tog emot" }).waitFor();
  assert.match(await field.page.locator("header .status").innerText(), /Synkat/);
  // Removed only on the person's word, after a warning.
  await field.page.locator("section.kept button", { hasText: "Jag har det jag behöver" }).click();
  assert.match(await field.page.locator("section.kept").innerText(), /försvinner från telefonen för gott/);
  await field.page.locator("section.kept button", { hasText: "Ta bort för gott" }).click();
  await field.page.locator("section.kept").waitFor({ state: "detached" });
  assert.equal(await field.page.locator(".notices .notice").count(), 0);
  await reloadAndUnlock(field.page, ANNA.password);
  await field.page.locator("article.household h1").waitFor({ timeout: 30_000 });
  await waitSynced(field.page, 60_000);
  assert.equal(await field.page.locator("section.kept").count(), 0);

  for (const one of [supervisor, field]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

test("a household the server cannot read is in the desk's overview and counts, with why", async () => {
  const one = await phone(browser, server.base, DESKTOP);
  const { page } = one;
  const unreadable = newDocumentId();
  await addToCaseload(page, [{ document_id: unreadable, district: "district-norrmalm", unreadable: "the document is from schema version 9" }]);
  await page.goto("/");
  await page.waitForSelector("#username");
  await page.fill("#username", SARA.username);
  await page.fill("#password", SARA.password);
  await page.click("button[type=submit]");
  const row = page.locator("table.desk-table tbody tr.unreadable", { hasText: "schema version 9" });
  await row.waitFor({ timeout: 90_000 });
  await page.waitForFunction(
    (count) => document.querySelectorAll("table.desk-table tbody tr").length >= count,
    ALL_HOUSEHOLDS + 1,
    { timeout: 90_000 },
  );
  assert.match(await row.innerText(), /Kan inte läsas: På servern: the document is from schema version 9/);
  const counts = await overviewCounts(page);
  assert.equal(counts.total, ALL_HOUSEHOLDS + 1);
  assert.equal(counts.matching, ALL_HOUSEHOLDS + 1);
  await page.waitForFunction(() => /1 hushåll kan inte läsas/.test(document.querySelector("header .status")?.innerText), null, { timeout: 60_000 });
  assert.doesNotMatch(await status(page), /Synkat/);
  await check(page, "desk-overview-unreadable");
  assert.deepEqual(one.errors, []);
  await one.context.close();
});
