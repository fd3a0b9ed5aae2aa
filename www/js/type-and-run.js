// What both consoles' `typeAndRun` do: type a command into the console's input over a short
// time, so a student watching sees it entered, then run it as Enter would. Lessons drive the
// consoles through it.

/**
 * @param {{setValue(text: string): void, run(text: string): void | Promise<void>,
 *          scrollback: {element: HTMLElement}}} console a Redis or Mongo console
 * @returns {Promise<{output: string, error: boolean}>} the entry's reply as shown, and
 *   whether the console marked it as an error
 */
export async function typeAndRun(console, text, { durationMs = 250 } = {}) {
  const frames = Math.max(1, Math.min(text.length, Math.round(durationMs / 16)));
  for (let i = 1; i <= frames; i++) {
    console.setValue(text.slice(0, Math.round((text.length * i) / frames)));
    await new Promise((ok) => setTimeout(ok, durationMs / frames));
  }
  console.setValue("");
  // A line waiting for the full engine module (engine.js) is a promise until it has run.
  await console.run(text);
  const out = console.scrollback.element.lastElementChild?.querySelector(".output");
  return { output: out?.textContent ?? "", error: out?.classList.contains("error") ?? false };
}
