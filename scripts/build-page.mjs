#!/usr/bin/env node
// Bundles and minifies the page's JavaScript into www/dist/ (git-ignored): one ES module per
// entry, so a page fetches one script instead of a three-level waterfall of 30-odd modules.
// www/js/*.js and www/embed.js stay the sources (tests import them, and embed.js still works
// unbundled); what the pages load is the bundle:
//
//   www/index.html          → dist/main.js
//   www/embed.html          → dist/embed-frame.js
//   www/examples/course.html and other course pages → dist/embed.js
//
// The wasm glue (pkg/, pkg-full/) stays outside: engine.js imports it by a computed URL, which
// esbuild leaves alone, so the full module still loads only on first use. dist/ sits beside
// js/, so a URL made from `import.meta.url` ("../pkg/…") means the same in a bundle as in its
// source.
//
// Run by scripts/build-wasm (so by scripts/serve and scripts/test) and by the page tests'
// harness, which always tests the current sources. Files are replaced by rename, and only
// when their content changed, so a page being served never reads a half-written bundle.
//
//   node scripts/build-page.mjs          builds, prints each bundle's size

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WWW = join(ROOT, "www");
export const DIST = join(WWW, "dist");
/** Bundle name → its source. */
export const ENTRIES = {
  main: "www/js/main.js",
  "embed-frame": "www/js/embed-frame.js",
  embed: "www/embed.js",
};
/**
 * Modules the pages fetch on first use, each its own bundle in dist/ (named as its source):
 * the bundles above import them with `import("./name.js")`, left as it is, which means the
 * same file beside the bundle as beside the source. A lazy bundle carries its own copy of
 * what it shares with the page (dom.js, previews.js: functions, no shared state).
 */
export const LAZY = {
  // The keyspace panel's detail views, with the bit strip and the geo plot: opened by a click.
  "key-detail": "www/js/key-detail.js",
  // The explain view's plan trees: drawn after a statement explains a query.
  "explain-plan": "www/js/explain-plan.js",
};
/** What the bundles hold and import, for scripts/size_report.py and the page tests. */
export const MANIFEST = "manifest.json";

/** Builds one bundle per entry; resolves to the manifest. */
export async function buildPage() {
  // Each entry is built alone (no shared chunks): a page then needs one request, not an entry
  // plus the chunks it shares with the other pages.
  const results = await Promise.all(
    Object.entries({ ...ENTRIES, ...LAZY }).map(([name, source]) =>
      esbuild.build({
        absWorkingDir: ROOT,
        entryPoints: { [name]: source },
        outdir: DIST,
        bundle: true,
        format: "esm",
        platform: "browser",
        minify: true,
        sourcemap: "linked",
        metafile: true,
        write: false,
        logLevel: "error",
        plugins: [lazyExternal(source)],
      }),
    ),
  );
  const files = new Map();
  // `bundles`: what a page loads by its script tag; `lazy`: the LAZY bundles they import later.
  const manifest = { bundles: {}, lazy: {} };
  for (const [i, name] of Object.keys({ ...ENTRIES, ...LAZY }).entries()) {
    const { outputFiles, metafile } = results[i];
    for (const file of outputFiles) files.set(file.path, file.contents);
    for (const [out, meta] of Object.entries(metafile.outputs)) {
      if (!meta.entryPoint) continue;
      manifest[name in LAZY ? "lazy" : "bundles"][name] = {
        file: relative(WWW, join(ROOT, out)),
        source: meta.entryPoint,
        sources: Object.keys(meta.inputs).sort(),
        // Chunks fetched with the bundle (static) and on first use (dynamic, LAZY bundles too),
        // as paths under www/. Computed imports (the wasm glue) are not bundled and not listed.
        imports: chunks(meta, "import-statement"),
        lazy: chunks(meta, "dynamic-import"),
      };
    }
  }
  files.set(join(DIST, MANIFEST), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"));
  mkdirSync(DIST, { recursive: true });
  for (const [path, contents] of files) replace(path, contents);
  for (const name of readdirSync(DIST)) {
    const path = join(DIST, name);
    if (!files.has(path) && !name.includes(".tmp-")) rmSync(path, { force: true });
  }
  return manifest;
}

function chunks(meta, kind) {
  return meta.imports
    .filter((i) => i.kind === kind)
    .map((i) => (i.external ? lazyFile(i.path) : relative(WWW, join(ROOT, i.path))))
    .filter(Boolean);
}

/** `dist/name.js` for an import of a LAZY module ("./name.js"), else null (the wasm glue). */
function lazyFile(path) {
  const name = path.replace(/^\.\//, "").replace(/\.js$/, "");
  return name in LAZY ? `dist/${name}.js` : null;
}

/** Leaves imports of the LAZY modules (other than `source` itself) to the browser. */
function lazyExternal(source) {
  const files = new Set(Object.values(LAZY).map((f) => join(ROOT, f)));
  return {
    name: "lazy-external",
    setup(build) {
      build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const file = join(args.resolveDir, args.path);
        return files.has(file) && file !== join(ROOT, source) ? { path: args.path, external: true } : undefined;
      });
    },
  };
}

function replace(path, contents) {
  let old = null;
  try {
    old = readFileSync(path);
  } catch {
    // Not built yet.
  }
  if (old && Buffer.compare(old, contents) === 0) return;
  const tmp = `${path}.tmp-${process.pid}-${createHash("sha1").update(contents).digest("hex").slice(0, 8)}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const manifest = await buildPage();
  for (const { file, sources } of [...Object.values(manifest.bundles), ...Object.values(manifest.lazy)]) {
    const data = readFileSync(join(WWW, file));
    console.log(
      `${String(data.length).padStart(8)} bytes  ${String(gzipSync(data, { level: 9 }).length).padStart(7)} gzipped  www/${file} (${sources.length} sources)`,
    );
  }
}
