// Sign-in with the organisation's identity provider, end to end: a real, certified OpenID
// provider (the npm `oidc-provider`) on loopback, the real server configured against it, and
// Debian's Chromium at 390×844. Anna, linked by an administrator through the API, signs in at
// the provider and lands in the app as herself (and it opens offline afterwards); a person
// nobody linked gets the "ask your administrator" page; a provider that is down gets a page
// that says so. Run by `cargo xtask test` (`node --test`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Provider from "oidc-provider";
import {
  check,
  choosePassphrase,
  freePort,
  launch,
  PASSPHRASE,
  phone,
  reloadAndUnlock,
  startServer,
  waitForHouseholds,
  waitSynced,
} from "./harness.mjs";

const CLIENT_ID = "lots";
const CLIENT_SECRET = `e2e-${Math.random().toString(36).slice(2)}-secret`;
/** The provider's subjects: what is typed at its (development) login form is the account. */
const SUBJECTS = { anna: "5b0e8f0c-anna-object-id", stranger: "9d41c2aa-not-in-lots" };
const EMAILS = { [SUBJECTS.anna]: "anna@kommun.example", [SUBJECTS.stranger]: "anna.andersson@kommun.example" };
const ADMIN = { username: "admin", password: "demo-admin-2026" };

let issuer;
let provider;
let providerServer;
let server;
let browser;
let secretDir;

/** The provider, on `port`, with Lots registered as a confidential client. */
function startProvider(port, lotsBase) {
  const oidc = new Provider(`http://127.0.0.1:${port}`, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${lotsBase}/auth/oidc/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    // Whatever is typed at the development login form is the account, and its subject;
    // with an e-mail claim, which must never sign anyone in by itself (the stranger's looks
    // like Anna's).
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: EMAILS[id] ?? `${id}@kommun.example`, email_verified: true };
        },
      };
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    pkce: { required: () => true },
    // Consent is the organisation's business, not this test's: granted at once.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email");
      await grant.save();
      return grant;
    },
    cookies: { keys: ["e2e-cookie-key-not-secret"] },
  });
  // The development login form; quiet about it.
  oidc.on("server_error", (_ctx, error) => console.error("oidc-provider:", error));
  return new Promise((done) => {
    const listening = oidc.listen(port, "127.0.0.1", () => done(listening));
  });
}

/** An administrator's bearer session at the API. */
async function admin(base) {
  const response = await fetch(`${base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...ADMIN, device_label: "e2e" }),
  });
  assert.equal(response.status, 200);
  const { token } = await response.json();
  return (method, path, body) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

before(async () => {
  const providerPort = await freePort();
  issuer = `http://127.0.0.1:${providerPort}`;
  secretDir = mkdtempSync(join(tmpdir(), "lots-oidc-"));
  const secretFile = join(secretDir, "client-secret");
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`);
  // Lots starts first, while nothing answers at the issuer: that must not stop it.
  server = await startServer({
    args: [
      "--oidc-issuer", issuer,
      "--oidc-client-id", CLIENT_ID,
      "--oidc-client-secret-file", secretFile,
      "--oidc-name", "Exempelkommun",
    ],
  });
  providerServer = await startProvider(providerPort, server.base);
  browser = await launch();
  // An administrator links Anna to her subject at the provider.
  const api = await admin(server.base);
  const linked = await api("PUT", "/api/users/u-anna/identity", { issuer, subject: SUBJECTS.anna });
  assert.equal(linked.status, 204, await linked.text());
  const shown = await (await api("GET", "/api/users/u-anna/identity")).json();
  assert.equal(shown.subject, SUBJECTS.anna);
});

after(async () => {
  await browser?.close();
  server?.stop();
  providerServer?.close();
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

/** Goes from Lots' sign-in page to the provider's login form and signs in there as `login`. */
async function signInAtProvider(page, login) {
  await page.goto("/");
  await page.locator("a.provider").click();
  await page.waitForURL((url) => url.origin === issuer, { timeout: 30_000 });
  await page.waitForSelector("input[name=login]");
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "anything");
  await page.click("button[type=submit]");
}

test("the sign-in page offers the organisation's account beside the password", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await page.goto("/");
  const button = page.locator("a.provider");
  await button.waitFor();
  assert.equal((await button.innerText()).trim(), "Logga in med Exempelkommun");
  assert.equal(await page.locator("#password").count(), 1);
  const options = await page.evaluate(() => fetch("/api/sign-in-options").then((answer) => answer.json()));
  assert.deepEqual(options, { password: true, oidc: { label: "Exempelkommun" } });
  await check(page, "oidc-sign-in");
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("Anna signs in at the provider, lands in the app as herself, and it opens offline", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signInAtProvider(page, SUBJECTS.anna);
  // Back in Lots, signed in: she has no Lots password, so she chooses a passphrase that
  // protects what the phone keeps; her caseload syncs as after a password sign-in.
  await choosePassphrase(page);
  await waitForHouseholds(page, 20);
  assert.equal(new URL(page.url()).search, "", "the mark leaves the address");
  const me = await page.evaluate(() => fetch("/api/me").then((answer) => answer.json()));
  assert.equal(me.user.username, "anna");
  assert.match(me.device_id, /^d-/);
  await waitSynced(page);
  // The phone opens with no network and no provider: what it has is its own.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  await one.context.setOffline(true);
  await reloadAndUnlock(page, PASSPHRASE);
  await waitForHouseholds(page, 20);
  await one.context.setOffline(false);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a person nobody linked is refused with 'ask your administrator', never an account", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signInAtProvider(page, SUBJECTS.stranger);
  await page.waitForURL((url) => url.pathname === "/auth/oidc/callback", { timeout: 30_000 });
  const heading = await page.locator("h1").innerText();
  assert.equal(heading, "Ditt konto är inte upplagt i Lots");
  const text = await page.locator("main").innerText();
  assert.match(text, /Your account is not set up in Lots/);
  assert.match(text, /Fråga din administratör/);
  assert.ok(text.includes(SUBJECTS.stranger), "the subject, to give the administrator");
  const me = await page.evaluate(() => fetch("/api/me").then((answer) => answer.status));
  assert.equal(me, 401, "not signed in");
  await check(page, "oidc-not-set-up");
  await one.context.close();
});

test("every sign-in with the provider, and every refusal, is in the log by issuer and subject", async () => {
  const response = await fetch(`${server.base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "demo-admin-2026", device_label: "e2e" }),
  });
  const { token } = await response.json();
  // Sign-ins and administration are the administrator's part of the log.
  const log = await (
    await fetch(`${server.base}/api/audit?limit=200`, { headers: { authorization: `Bearer ${token}` } })
  ).json();
  const signedIn = log.entries.find((entry) => entry.action === "sign-in" && entry.user_id === "u-anna");
  assert.match(signedIn.detail, /^method oidc from 127\.0\.0\.1/);
  const refused = log.entries.find((entry) => entry.action === "sign-in-failed" && entry.detail.includes(SUBJECTS.stranger));
  assert.match(refused.detail, /unknown identity: issuer http:\/\/127\.0\.0\.1:\d+ subject /);
  assert.ok(!refused.detail.includes("@"), "no e-mail address, no name");
  const linked = log.entries.find((entry) => entry.action === "identity-linked");
  assert.equal(linked.user_id, "u-admin");
});

test("with password sign-in turned off, the sign-in page offers the provider alone", async () => {
  const secretFile = join(secretDir, "client-secret");
  const only = await startServer({
    args: ["--oidc-issuer", issuer, "--oidc-client-id", CLIENT_ID, "--oidc-client-secret-file", secretFile, "--oidc-name", "Exempelkommun", "--password-sign-in=false"],
  });
  try {
    const one = await phone(browser, only.base);
    const { page } = one;
    await page.goto("/");
    await page.locator("a.provider").waitFor();
    await page.locator("#password").waitFor({ state: "detached" });
    assert.equal(await page.locator("#username").count(), 0);
    await check(page, "oidc-sign-in-provider-only");
    const refused = await fetch(`${only.base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    assert.equal(refused.status, 403);
    assert.match((await refused.json()).error, /password sign-in is turned off/);
    await one.context.close();
  } finally {
    only.stop();
  }
});

test("a provider that is down gets a page saying the sign-in service cannot be reached", async () => {
  const closed = new Promise((done) => providerServer.close(done));
  providerServer.closeAllConnections();
  await closed;
  const one = await phone(browser, server.base);
  const { page } = one;
  await page.goto("/");
  await page.locator("a.provider").click();
  await page.waitForURL((url) => url.pathname === "/auth/oidc/start", { timeout: 30_000 });
  assert.equal(await page.locator("h1").innerText(), "Inloggningstjänsten går inte att nå");
  assert.match(await page.locator("main").innerText(), /The sign-in service cannot be reached/);
  await check(page, "oidc-provider-down");
  // Password sign-in is not affected.
  const answer = await page.evaluate(() => fetch("/api/sign-in-options").then((response) => response.status));
  assert.equal(answer, 200);
  await one.context.close();
});
