// Lots' start-up script: which app this page starts (see web/src/boot.rs and
// web/src/screens.rs).
//
// A device where nobody is signed in gets the sign-in alone, a small module, so that a first
// visit on a slow network shows the form quickly. With the form on the screen, the phone's app
// is fetched and compiled while the person types. Once they are signed in (the sign-in app
// sends "lots:signed-in"), or on a device where somebody already is, their app starts — the
// phone's, or the desk's for a supervisor or an administrator — and registers the service
// worker, which then precaches the files the browser already has.
//
// `cargo xtask` fills in FILES (the hashed names of the three builds) when it builds dist/.
// The server's Content-Security-Policy forbids inline scripts, so this is a file of its own.
const FILES = {};

// Present while somebody is signed in on this device, naming their app: "desk", or "field"
// (any other value is the phone's app, which corrects the flag when it is wrong).
const SIGNED_IN = "lots-signed-in";

function signedIn() {
  try {
    return localStorage.getItem(SIGNED_IN);
  } catch {
    return null; // Storage turned off: the sign-in app finds out what it can.
  }
}

function files(flag) {
  return flag === "desk" ? FILES.desk : FILES.app;
}

// An app's glue and its compiled module, fetched together. A browser remembers a module that
// failed to load for the rest of the page's life, so a second try asks for the same file under
// another URL (the server ignores the query).
let tries = 0;
function loadApp(app) {
  const glue = tries === 0 ? app.js : `${app.js}?try=${tries}`;
  tries += 1;
  return Promise.all([import(glue), WebAssembly.compileStreaming(fetch(app.wasm))]).then(
    (loaded) => {
      performance.mark("lots:app-loaded"); // read by `cargo xtask bench-web`
      return loaded;
    },
  );
}

// The page says so when the app itself cannot start (no network, and the service worker has
// not kept it): in both languages, since the translations are in the app that did not load.
function cannotStart(error) {
  console.error("Lots could not start:", error);
  const main = document.createElement("main");
  main.className = "center";
  const text = (tag, lang, words) => {
    const element = document.createElement(tag);
    element.lang = lang;
    element.textContent = words;
    return element;
  };
  const alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  alert.append(
    text("p", "sv", "Lots kunde inte startas: appen finns inte sparad på enheten och går inte att hämta just nu. Allt du har sparat finns kvar. Försök igen när du har täckning."),
    text("p", "en", "Lots could not start: the app is not stored on this device and cannot be fetched right now. Everything you have saved is still here. Try again when you have coverage."),
  );
  const again = text("button", "sv", "Försök igen / Try again");
  again.className = "primary";
  again.addEventListener("click", () => location.reload());
  main.append(alert, again);
  document.body.replaceChildren(main);
}

function run([glue, module]) {
  return glue.default({ module_or_path: module });
}

const flag = signedIn();
if (flag !== null) {
  try {
    await run(await loadApp(files(flag)));
  } catch (error) {
    cannotStart(error);
  }
} else {
  const signIn = await import(FILES.signIn.js);
  let app; // the phone's app, being fetched
  const fetchApp = () => {
    app = loadApp(FILES.app);
    app.catch(() => (app = undefined)); // fetched again when it is needed
  };
  let starting = false;
  addEventListener("lots:signed-in", async () => {
    if (starting) return;
    starting = true;
    // The app is fetched and compiled before the sign-in goes, so that a failure leaves the
    // person a page that says what happened (and a form to try again) rather than an empty
    // one. A supervisor or an administrator gets the desk's app instead of the phone's.
    let loaded;
    try {
      if (signedIn() === "desk") {
        loaded = await loadApp(FILES.desk);
      } else {
        if (app === undefined) fetchApp();
        loaded = await app;
      }
    } catch (error) {
      starting = false;
      signIn.notStarted(String(error));
      return;
    }
    signIn.stop();
    await run(loaded);
  });
  await signIn.default({ module_or_path: FILES.signIn.wasm });
  fetchApp();
}
