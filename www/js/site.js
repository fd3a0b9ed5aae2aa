// The folder the page's files are served from (www/). Taken from this module's own URL because
// it sits one level below that folder both as a source (js/) and bundled (dist/), while
// embed.js does not: bundled, it moves from www/ into dist/.
export const SITE = new URL("../", import.meta.url);
