// embed.html, the iframe form of the embed: reads the URL's parameters and puts one
// <nosql-playground> with those attributes in the page, so an iframe and the element take the
// same settings (see embed.js). Only the known attributes are copied, as text.

import "../embed.js";

/** URL parameter → attribute; `readonly-steps` is on when present (any value but `0`). */
export const PARAMETERS = ["lesson", "engines", "panels", "theme", "setup-redis", "setup-mongo", "readonly-steps"];

export function embedAttributes(search) {
  const params = new URLSearchParams(search);
  const attributes = {};
  for (const name of PARAMETERS) {
    if (!params.has(name)) continue;
    const value = params.get(name);
    if (name === "readonly-steps") {
      if (value !== "0" && value !== "false") attributes[name] = "";
    } else attributes[name] = value;
  }
  return attributes;
}

const element = document.createElement("nosql-playground");
for (const [name, value] of Object.entries(embedAttributes(location.search))) element.setAttribute(name, value);
document.body.append(element);
