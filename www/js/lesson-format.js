// The lesson format: strict validation of lesson files, the Markdown subset their prose is
// written in (rendered as DOM text nodes, never parsed as HTML), and how a check's reply is
// compared. A lesson is data only: nothing in it is ever run as JavaScript.

export const ENGINES = ["redis", "mongo"];

const LESSON_FIELDS = ["id", "title", "summary", "setup", "steps"];
const SETUP_FIELDS = ["redis", "mongo"];
const STEP_FIELDS = ["title", "text", "commands", "checks", "hints"];
const COMMAND_FIELDS = ["engine", "client", "text", "expectError"];
const CHECK_FIELDS = ["engine", "run", "expect", "match", "label"];
const MAX_CLIENT = 16;

export class LessonError extends Error {
  constructor(message) {
    super(message);
    this.name = "LessonError";
  }
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isText = (v) => typeof v === "string" && v.trim() !== "";

/**
 * Checks a parsed lesson file and returns it, or throws a LessonError that says where the
 * problem is: `lesson 'x', step 3: unknown field 'comand'`. `name` names the lesson in the
 * message until its own id is known (a file name).
 */
export function validateLesson(lesson, name = "?") {
  let where = `lesson '${name}'`;
  const fail = (at, message) => {
    throw new LessonError(`${at}: ${message}`);
  };
  const strict = (object, fields, at) => {
    if (!isObject(object)) fail(at, "must be an object");
    for (const key of Object.keys(object)) {
      if (!fields.includes(key)) fail(at, `unknown field '${key}' (expected one of ${fields.join(", ")})`);
    }
  };
  const text = (value, at, field) => {
    if (!isText(value)) fail(at, `'${field}' must be a non-empty string`);
  };
  const lines = (value, at, field) => {
    if (!Array.isArray(value) || !value.every((line) => typeof line === "string")) {
      fail(at, `'${field}' must be a list of strings`);
    }
  };

  if (isObject(lesson) && isText(lesson.id)) where = `lesson '${lesson.id}'`;
  strict(lesson, LESSON_FIELDS, where);
  text(lesson.id, where, "id");
  if (!/^[a-z0-9][a-z0-9-]*$/.test(lesson.id)) fail(where, "'id' may hold only a-z, 0-9 and '-'");
  text(lesson.title, where, "title");
  text(lesson.summary, where, "summary");
  if (lesson.setup !== undefined) {
    strict(lesson.setup, SETUP_FIELDS, `${where}, setup`);
    for (const engine of SETUP_FIELDS) {
      if (lesson.setup[engine] !== undefined) lines(lesson.setup[engine], `${where}, setup`, engine);
    }
  }
  if (!Array.isArray(lesson.steps) || lesson.steps.length === 0) fail(where, "'steps' must be a non-empty list");
  lesson.steps.forEach((step, i) => {
    const at = `${where}, step ${i + 1}`;
    strict(step, STEP_FIELDS, at);
    text(step.title, at, "title");
    text(step.text, at, "text");
    for (const field of ["commands", "checks", "hints"]) {
      if (step[field] !== undefined && !Array.isArray(step[field])) fail(at, `'${field}' must be a list`);
    }
    (step.commands ?? []).forEach((command, j) => {
      const cat = `${at}, command ${j + 1}`;
      strict(command, COMMAND_FIELDS, cat);
      if (!ENGINES.includes(command.engine)) fail(cat, "'engine' must be 'redis' or 'mongo'");
      text(command.text, cat, "text");
      if (command.client !== undefined) {
        if (command.engine !== "redis") fail(cat, "'client' is for Redis commands only");
        if (!Number.isInteger(command.client) || command.client < 1 || command.client > MAX_CLIENT) {
          fail(cat, `'client' must be a whole number from 1 to ${MAX_CLIENT}`);
        }
      }
      if (command.engine === "redis" && /[\r\n]/.test(command.text)) fail(cat, "a Redis command is one line");
      if (command.expectError !== undefined && typeof command.expectError !== "boolean") {
        fail(cat, "'expectError' must be true or false");
      }
    });
    (step.checks ?? []).forEach((check, j) => {
      const cat = `${at}, check ${j + 1}`;
      strict(check, CHECK_FIELDS, cat);
      if (!ENGINES.includes(check.engine)) fail(cat, "'engine' must be 'redis' or 'mongo'");
      text(check.run, cat, "run");
      if ((check.expect === undefined) === (check.match === undefined)) {
        fail(cat, "give exactly one of 'expect' (the reply) or 'match' (a regular expression)");
      }
      if (check.expect !== undefined && typeof check.expect !== "string") fail(cat, "'expect' must be a string");
      if (check.match !== undefined) {
        text(check.match, cat, "match");
        const why = patternError(check.match);
        if (why) fail(cat, `'match' is not a regular expression: ${why}`);
      }
      if (check.label !== undefined) text(check.label, cat, "label");
    });
    (step.hints ?? []).forEach((hint, j) => text(hint, `${at}, hint ${j + 1}`, "hint"));
  });
  return lesson;
}

/** The course index: `{"lessons": ["01-….json", …]}`, file names relative to it. */
export function validateIndex(index) {
  if (!isObject(index) || !Array.isArray(index.lessons)) {
    throw new LessonError("lesson index: must be an object with a 'lessons' list");
  }
  for (const key of Object.keys(index)) {
    if (key !== "lessons") throw new LessonError(`lesson index: unknown field '${key}'`);
  }
  for (const file of index.lessons) {
    if (typeof file !== "string" || !/^[A-Za-z0-9._-]+\.json$/.test(file)) {
      throw new LessonError(`lesson index: '${file}' is not a lesson file name`);
    }
  }
  return index;
}

/**
 * Fetches and validates one lesson file. The error says which file and what is wrong with
 * it (not found, not JSON, or the validator's message).
 */
export async function loadLesson(url) {
  const name = String(url).split("/").pop();
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new LessonError(`lesson '${name}': could not be fetched (${error.message})`);
  }
  if (!response.ok) throw new LessonError(`lesson '${name}': could not be fetched (HTTP ${response.status})`);
  let data;
  try {
    data = JSON.parse(await response.text());
  } catch (error) {
    throw new LessonError(`lesson '${name}': not valid JSON (${error.message})`);
  }
  return validateLesson(data, name);
}

/** The reply a check compares, without the newline every reply ends with. */
function replyText(reply) {
  return reply.replace(/\r\n/g, "\n").replace(/\n$/, "");
}

// A check's `match` runs on the engine's regex (linear in the reply, PCRE syntax without
// backreferences or lookaround), never on RegExp: a lesson is data from anywhere, and a
// backtracking pattern against a long reply would freeze the tab. The page hands the
// engine's functions over once its module is loaded.
let engineRegex = null;

/** `{ patternTest(pattern, options, text), patternError(pattern, options) }` of the wasm module. */
export function useRegexEngine(module) {
  engineRegex = { test: module.patternTest, error: module.patternError };
}

/**
 * Why a `match` pattern cannot be used, or "" when it can. Before the engine is loaded (a
 * lesson validated in Node), only RegExp's syntax check is available: compiling is linear,
 * matching is what can blow up.
 */
function patternError(pattern) {
  if (engineRegex) return engineRegex.error(pattern, "m");
  try {
    new RegExp(pattern, "m");
    return "";
  } catch (error) {
    return error.message;
  }
}

/** Whether a check's reply is what it expects. */
export function checkPasses(check, reply) {
  const text = replyText(reply);
  if (check.expect !== undefined) return text === check.expect;
  if (!engineRegex) throw new LessonError("lesson checks need the engine loaded");
  return engineRegex.test(check.match, "m", text);
}

/** Whitespace-insensitive form of a command, to notice a student typing it themselves. */
export function sameCommand(a, b) {
  const norm = (s) => s.trim().replace(/\s+/g, " ");
  return norm(a) === norm(b);
}

// ---- The Markdown subset ----------------------------------------------------------------

/**
 * Renders lesson prose: paragraphs (blank-line separated), `- ` / `1. ` lists, `inline
 * code`, **bold** and [links](https://…). Everything becomes elements and text nodes; a
 * link that is not http(s) stays text.
 */
export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const blocks = String(source).replace(/\r\n?/g, "\n").split(/\n\s*\n/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) continue;
    const bullet = /^\s*[-*]\s+/;
    const number = /^\s*\d+[.)]\s+/;
    if (lines.every((l) => bullet.test(l)) || lines.every((l) => number.test(l))) {
      const ordered = number.test(lines[0]);
      const list = document.createElement(ordered ? "ol" : "ul");
      for (const line of lines) {
        const item = document.createElement("li");
        item.append(renderInline(line.replace(ordered ? number : bullet, "")));
        list.append(item);
      }
      fragment.append(list);
    } else {
      const p = document.createElement("p");
      p.append(renderInline(lines.join(" ")));
      fragment.append(p);
    }
  }
  return fragment;
}

/** `code`, **bold** and [text](http…) within one paragraph or list item. */
export function renderInline(text) {
  const fragment = document.createDocumentFragment();
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > at) fragment.append(text.slice(at, m.index));
    if (m[1] !== undefined) {
      const code = document.createElement("code");
      code.textContent = m[1];
      fragment.append(code);
    } else if (m[2] !== undefined) {
      const strong = document.createElement("strong");
      strong.append(renderInline(m[2]));
      fragment.append(strong);
    } else if (/^https?:\/\//i.test(m[4])) {
      const a = document.createElement("a");
      a.href = m[4];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = m[3];
      fragment.append(a);
    } else {
      fragment.append(m[0]);
    }
    at = m.index + m[0].length;
  }
  if (at < text.length) fragment.append(text.slice(at));
  return fragment;
}
