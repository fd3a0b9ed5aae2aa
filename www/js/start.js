// What the page starts before it builds anything: the first wasm module's load (fetch,
// streaming compile, a Playground) and the saved sandbox's database (open, read). main.js
// imports this module first, so this runs before the panels' modules define their elements
// and build their DOM, and the compile and the database's round trips go on meanwhile.

import { loadEngine } from "./engine.js";
import { openEarly } from "./persistence.js";

openEarly();

/** The engine with the first module loaded (main.js awaits it; a failed load rejects it). */
export const engine = loadEngine();
// Handled where it is awaited; until then a failure is not an unhandled rejection.
engine.catch(() => {});
