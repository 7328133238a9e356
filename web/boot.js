// Lots' start-up script: which app this page starts (see web/src/boot.rs).
//
// A device where nobody is signed in gets the sign-in alone, a small module, so that a first
// visit on a slow network shows the form quickly. With the form on the screen, the whole app
// is fetched and compiled while the person types. Once they are signed in (the sign-in app
// sends "lots:signed-in"), or on a device where somebody already is, the whole app starts and
// registers the service worker, which then precaches the files the browser already has.
//
// `cargo xtask` fills in FILES (the hashed names of both builds) when it builds dist/. The
// server's Content-Security-Policy forbids inline scripts, so this is a file of its own.
const FILES = {};

const SIGNED_IN = "lots-signed-in";

function signedIn() {
  try {
    return localStorage.getItem(SIGNED_IN) !== null;
  } catch {
    return false; // Storage turned off: the sign-in app finds out what it can.
  }
}

// The whole app's glue and its compiled module, fetched together.
function loadApp() {
  return Promise.all([import(FILES.app.js), WebAssembly.compileStreaming(fetch(FILES.app.wasm))]).then(
    (loaded) => {
      performance.mark("lots:app-loaded"); // read by `cargo xtask bench-web`
      return loaded;
    },
  );
}

function run([glue, module]) {
  return glue.default({ module_or_path: module });
}

if (signedIn()) {
  await run(await loadApp());
} else {
  const signIn = await import(FILES.signIn.js);
  let app; // the whole app, being fetched
  const fetchApp = () => {
    app = loadApp();
    app.catch(() => (app = undefined)); // fetched again when it is needed
  };
  let starting = false;
  addEventListener("lots:signed-in", async () => {
    if (starting) return;
    starting = true;
    // The whole app is fetched and compiled before the sign-in goes, so that a failure leaves
    // the person a page that says what happened (and a form to try again) rather than an
    // empty one.
    let loaded;
    try {
      if (app === undefined) fetchApp();
      loaded = await app;
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
