// A geo set (members GEOADD wrote) as points on a small plot: an equirectangular projection
// fitted to the points' bounding box, each point labelled, and every distance from one
// member (the first, or the one the student picks) as GEODIST ... km prints it. The
// distances come from the core, which measures them as GEODIST does.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 180;
const PAD = 28;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) if (child != null) el.append(child);
  return el;
}

/** Screen positions for the points: longitude right, latitude up, equal scale at mid-latitude. */
export function project(points) {
  const lons = points.map((p) => p.longitude);
  const lats = points.map((p) => p.latitude);
  const minLon = Math.min(...lons);
  const maxLon = Math.max(...lons);
  const minLat = Math.min(...lats);
  const maxLat = Math.max(...lats);
  const squash = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = Math.max((maxLon - minLon) * squash, 1e-6);
  const spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = Math.min((WIDTH - 2 * PAD) / spanX, (HEIGHT - 2 * PAD) / spanY);
  const offsetX = (WIDTH - spanX * scale) / 2;
  const offsetY = (HEIGHT - spanY * scale) / 2;
  return points.map((p) => ({
    x: offsetX + (p.longitude - minLon) * squash * scale,
    y: HEIGHT - offsetY - (p.latitude - minLat) * scale,
  }));
}

/**
 * @param {{origin: string, points: {member: string, longitude: number, latitude: number, distanceKm: string}[]}} geo
 * @param {number} len members in the set (some may not be plotted)
 * @param {{key: string, setOrigin: (member: string) => void}} ctx
 */
export function renderGeoPlot(geo, len, ctx) {
  const at = project(geo.points);
  const origin = geo.points.findIndex((p) => p.member === geo.origin);
  const o = at[origin] ?? at[0];
  const svg = s(
    "svg",
    {
      class: "geo-plot",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-label": `Map of ${geo.points.length} points; distances from ${geo.origin}`,
    },
    s("rect", { class: "geo-frame", x: 0.5, y: 0.5, width: WIDTH - 1, height: HEIGHT - 1, rx: 6 }),
    geo.points.map((_, i) => (i === origin ? null : s("line", { class: "geo-line", x1: o.x, y1: o.y, x2: at[i].x, y2: at[i].y }))),
    geo.points.map((p, i) => {
      // Labels on the right half run leftwards so they stay inside the frame.
      const right = at[i].x > WIDTH / 2;
      const label = s("text", { class: "geo-label", x: at[i].x + (right ? -7 : 7), y: at[i].y - 7, "text-anchor": right ? "end" : "start" });
      label.textContent = p.member;
      const title = s("title");
      title.textContent = `${p.member}: ${p.longitude.toFixed(6)}, ${p.latitude.toFixed(6)} · ${p.distanceKm} km from ${geo.origin}`;
      return s(
        "g",
        { class: `geo-point${i === origin ? " origin" : ""}`, "data-member": p.member },
        title,
        s("circle", { cx: at[i].x, cy: at[i].y, r: i === origin ? 5 : 4 }),
        label,
      );
    }),
  );
  const table = h(
    "table",
    { class: "kv geo-distances" },
    h("caption", {}, "Distances from ", h("strong", {}, geo.origin), " (GEODIST … km); pick another member to measure from it"),
    h("thead", {}, h("tr", {}, ["member", "longitude", "latitude", "km"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      geo.points.map((p) =>
        h(
          "tr",
          { dataset: { member: p.member } },
          h(
            "td",
            {},
            h(
              "button",
              {
                type: "button",
                class: "link-button",
                "aria-pressed": String(p.member === geo.origin),
                title: `Measure distances from ${p.member}`,
                dataset: { focusId: `origin:${p.member}` },
                onclick: () => ctx.setOrigin(p.member),
              },
              p.member,
            ),
          ),
          h("td", { class: "num" }, p.longitude.toFixed(6)),
          h("td", { class: "num" }, p.latitude.toFixed(6)),
          h("td", { class: "num distance" }, p.distanceKm),
        ),
      ),
    ),
  );
  const unplotted = len - geo.points.length;
  return h("div", { class: "geo" }, svg, table, unplotted > 0 ? h("p", { class: "more" }, `… ${unplotted} more members not plotted`) : null);
}
