// The overlay shown when the engine stops: a Rust panic (the wasm's panic hook calls
// `globalThis.onPlaygroundPanic` before the instance traps) or any other trap of the
// instance (out of memory, stack exhaustion), which surfaces as a `WebAssembly.RuntimeError`.
// After either, every call into the instance fails, so the overlay cannot be dismissed: the
// only way on is a reload, which starts from the last saved state.

let shown = null;

/** Shows the overlay once; later calls keep the first message (the cause, not the echoes). */
export function showPanicOverlay(message) {
  if (shown) return shown;
  // The panels poll the engine every frame; each poll would now throw.
  globalThis.app?.loop?.stop?.();
  for (const el of document.body.children) el.inert = true;
  const overlay = document.createElement("div");
  overlay.className = "panic-overlay";
  overlay.setAttribute("role", "alertdialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-labelledby", "panic-title");
  overlay.setAttribute("aria-describedby", "panic-message");
  const box = document.createElement("div");
  box.className = "panic-box";
  const title = document.createElement("h2");
  title.id = "panic-title";
  title.textContent = "The sandbox hit an internal error:";
  const detail = document.createElement("pre");
  detail.className = "panic-detail";
  detail.textContent = String(message);
  const text = document.createElement("p");
  text.id = "panic-message";
  text.textContent = "Your last saved state is kept; reload the page to continue from it.";
  const reload = document.createElement("button");
  reload.type = "button";
  reload.textContent = "Reload";
  reload.addEventListener("click", () => location.reload());
  box.append(title, detail, text, reload);
  overlay.append(box);
  // Not dismissable: Escape and clicks outside do nothing.
  overlay.addEventListener("keydown", (e) => {
    if (e.key === "Escape") e.preventDefault();
  });
  document.body.append(overlay);
  document.body.dataset.panicked = "true";
  reload.focus();
  shown = overlay;
  return overlay;
}

function isTrap(error) {
  return typeof WebAssembly !== "undefined" && error instanceof WebAssembly.RuntimeError;
}

/** Listens for a panic report from the engine and for traps nobody caught. */
export function installPanicOverlay() {
  globalThis.onPlaygroundPanic = (message) => showPanicOverlay(message);
  const onTrap = (error) => {
    if (!isTrap(error)) return;
    showPanicOverlay(globalThis.__playgroundPanic ?? String(error));
  };
  window.addEventListener("error", (e) => onTrap(e.error));
  window.addEventListener("unhandledrejection", (e) => onTrap(e.reason));
}
