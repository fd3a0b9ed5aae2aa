// A string as a strip of bits, as SETBIT and GETBIT number them: 8 per byte, bit 0 the most
// significant bit of byte 0, grouped by byte with each group's first offset labelled and set
// bits highlighted; a long string ends in "…".

import { h } from "./dom.js";

/**
 * @param {{bytes: number[], len: number, count: number, byBitCommand: boolean}} bits
 */
export function renderBitStrip(bits) {
  const groups = bits.bytes.map((byte, i) => {
    const cells = [];
    for (let b = 0; b < 8; b++) {
      const on = (byte & (0x80 >> b)) !== 0;
      const offset = i * 8 + b;
      cells.push(h("span", { class: `bit${on ? " on" : ""}`, dataset: { offset: String(offset) }, title: `bit ${offset}: ${on ? 1 : 0}` }, on ? "1" : "0"));
    }
    const binary = byte.toString(2).padStart(8, "0");
    return h(
      "li",
      { class: "byte", "aria-label": `bits ${i * 8} to ${i * 8 + 7}: ${binary}` },
      h("span", { class: "offset", "aria-hidden": "true" }, String(i * 8)),
      h("span", { class: "bits", "aria-hidden": "true" }, cells),
    );
  });
  const cut = bits.len > bits.bytes.length;
  return h(
    "div",
    { class: "bit-strip" },
    h(
      "p",
      { class: "bit-summary" },
      `${bits.count} of ${bits.len * 8} bits set (BITCOUNT)`,
      h("span", { class: "muted" }, bits.byBitCommand ? " · written by a bit command" : " · binary bytes"),
    ),
    h(
      "ol",
      { class: "bytes", "aria-label": `Bits of the first ${bits.bytes.length} of ${bits.len} bytes` },
      groups,
      cut ? h("li", { class: "more", title: `${bits.len - bits.bytes.length} more bytes` }, "…") : null,
    ),
  );
}
