// Completion for the Mongo editor: what may be typed at the caret (collection names after
// `db.`, methods, operators after `$`, the collection's field names inside a query object,
// shell helpers), and a small listbox popup to choose among the candidates by keyboard.
// The names come from the engine (its method and operator tables, the collection's
// documents), so the list offers nothing the engine would refuse.

const UPDATE_METHODS = new Set([
  "updateOne", "updateMany", "findOneAndUpdate", "replaceOne", "findOneAndReplace",
]);
// Calls whose object arguments name fields of the collection.
const FIELD_METHODS = new Set([
  "find", "findOne", "aggregate", "countDocuments", "distinct", "deleteOne", "deleteMany",
  "updateOne", "updateMany", "replaceOne", "findOneAndUpdate", "findOneAndReplace",
  "findOneAndDelete", "createIndex", "sort", "hint", "projection",
]);
const MAX_ITEMS = 100;

/**
 * Where the caret sits in the source before it: the open brackets (each with the method
 * name a `(` calls and how many top-level commas it holds) and whether it is inside a string
 * or comment.
 */
export function scan(before) {
  const stack = [];
  let string = null;
  let comment = false;
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (string) {
      if (c === "\\") i++;
      else if (c === string.quote) string = null;
      continue;
    }
    if (c === "/" && before[i + 1] === "/") {
      const nl = before.indexOf("\n", i);
      if (nl < 0) {
        comment = true;
        break;
      }
      i = nl;
    } else if (c === "/" && before[i + 1] === "*") {
      const close = before.indexOf("*/", i + 2);
      if (close < 0) {
        comment = true;
        break;
      }
      i = close + 1;
    } else if (c === '"' || c === "'" || c === "`") {
      string = { quote: c, start: i };
    } else if (c === "(" || c === "[" || c === "{") {
      const callee = c === "(" ? /([A-Za-z_$][\w$]*)\s*$/.exec(before.slice(0, i))?.[1] ?? "" : "";
      stack.push({ char: c, callee, commas: 0 });
    } else if (c === ")" || c === "]" || c === "}") {
      stack.pop();
    } else if (c === "," && stack.length > 0) {
      stack[stack.length - 1].commas++;
    }
  }
  return { stack, string, comment };
}

/** The innermost call the caret is in, with the brackets opened inside it. */
function enclosingCall(stack) {
  for (let i = stack.length - 1; i >= 0; i--) {
    if (stack[i].char === "(") return { call: stack[i], inner: stack.slice(i + 1) };
  }
  return null;
}

/** The collection the statement works on: the last `db.<name>.` before the caret. */
function collectionOf(before, dbMethods) {
  let coll = null;
  const re = /(?:^|[^\w$.])db\.([A-Za-z_$][\w$]*)\s*\.|db\.getCollection\(\s*["']([^"']+)["']\s*\)/g;
  for (let m = re.exec(before); m; m = re.exec(before)) {
    const name = m[1] ?? m[2];
    if (!dbMethods.includes(name)) coll = name;
  }
  return coll;
}

/** A field path as it must be written as an object key: dotted paths need quotes. */
function keyForm(path) {
  return /^[A-Za-z_$][\w$]*$/.test(path) ? path : JSON.stringify(path);
}

function startsWith(name, prefix) {
  return name.toLowerCase().startsWith(prefix.toLowerCase());
}

/**
 * What completes the word before the caret.
 * @param {string} before the editor's text up to the caret
 * @param {{vocabulary: object, collections: string[], databases: string[],
 *          fieldsOf: (coll: string) => string[]}} source
 * @returns {{replace: string, items: {label: string, insert: string, kind: string}[]} | null}
 *   `replace` is the typed text the chosen item's `insert` takes the place of
 */
export function mongoCompletions(before, source) {
  const { vocabulary: v } = source;
  const { stack, string, comment } = scan(before);
  if (comment) return null;
  const offer = (replace, names, kind, form = (n) => n) => {
    const items = names
      .filter((n) => startsWith(n, replace) || startsWith(form(n), replace))
      .slice(0, MAX_ITEMS)
      .map((n) => ({ label: n, insert: form(n), kind }));
    return items.length ? { replace, items } : null;
  };

  if (string) {
    // "$price" in a pipeline names a field of the documents flowing through it.
    const typed = before.slice(string.start + 1);
    const coll = collectionOf(before, v.db_methods);
    if (!/^\$[\w$.]*$/.test(typed) || !coll) return null;
    return offer(typed, source.fieldsOf(coll).map((f) => `$${f}`), "field");
  }

  let m;
  if ((m = /(?:^|[^\w$.])db\s*\.\s*([A-Za-z_$][\w$]*)\s*\.\s*([\w$]*)$/.exec(before))) {
    if (v.db_methods.includes(m[1])) return null;
    return offer(m[2], v.collection_methods, "method");
  }
  if ((m = /(?:^|[^\w$.])db\s*\.\s*([\w$]*)$/.exec(before))) {
    const colls = offer(m[1], source.collections, "collection");
    const methods = offer(m[1], v.db_methods, "method");
    const items = [...(colls?.items ?? []), ...(methods?.items ?? [])];
    return items.length ? { replace: m[1], items } : null;
  }
  if ((m = /\)\s*\.\s*([\w$]*)$/.exec(before))) {
    return offer(m[1], v.cursor_methods, "method");
  }
  if ((m = /^\s*show\s+(\w*)$/.exec(before))) {
    return offer(m[1], ["dbs", "databases", "collections"], "helper");
  }
  if ((m = /^\s*use\s+([\w-]*)$/.exec(before))) {
    return offer(m[1], source.databases, "database");
  }
  if ((m = /(?:^|[^\w$])(\$[\w$]*)$/.exec(before))) {
    return offer(m[1], operatorsFor(stack, v), "operator");
  }
  if ((m = /[{,]\s*([A-Za-z_$"'][\w$."']*)?$/.exec(before)) && stack.at(-1)?.char === "{") {
    const found = enclosingCall(stack);
    const coll = collectionOf(before, v.db_methods);
    if (!found || !FIELD_METHODS.has(found.call.callee) || !coll) return null;
    const typed = m[1] ?? "";
    const bare = typed.replace(/^["']/, "");
    const fields = source.fieldsOf(coll).filter((f) => startsWith(f, bare));
    return fields.length
      ? { replace: typed, items: fields.slice(0, MAX_ITEMS).map((f) => ({ label: f, insert: keyForm(f), kind: "field" })) }
      : null;
  }
  // A word begun at the start of a statement (an empty editor keeps Tab for moving on).
  if ((m = /(?:^|[;\n])\s*(\w+)$/.exec(before)) && stack.length === 0) {
    return offer(m[1], [...v.shell_helpers, "db"], "helper");
  }
  return null;
}

/** Which operators a `$` may start here, from the call and the brackets around the caret. */
function operatorsFor(stack, v) {
  const found = enclosingCall(stack);
  if (!found) return v.query_operators;
  const { call, inner } = found;
  if (call.callee === "aggregate") {
    // `aggregate([{ $` — a stage; deeper inside one — expressions and accumulators.
    const atStage = inner.length === 2 && inner[0].char === "[" && inner[1].char === "{";
    const direct = inner.length === 1 && inner[0].char === "{";
    if (atStage || direct) return v.stages;
    return [...new Set([...v.query_operators, ...v.expression_operators, ...v.accumulators])].sort();
  }
  if (UPDATE_METHODS.has(call.callee) && call.commas >= 1) {
    if (inner[0]?.char === "[") return v.stages;
    return inner.length <= 1 ? v.update_operators : v.query_operators;
  }
  return v.query_operators;
}

/** The longest prefix all the inserts share (case-sensitive: names are typed as listed). */
export function sharedPrefix(texts) {
  if (texts.length === 0) return "";
  let prefix = texts[0];
  for (const t of texts.slice(1)) {
    let i = 0;
    while (i < prefix.length && i < t.length && prefix[i] === t[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

let nextId = 0;

/**
 * A listbox of candidates under an editor. Focus stays in the editor; the active option is
 * announced through aria-activedescendant, as the ARIA combobox pattern does it.
 */
export class CompletionList {
  /**
   * @param {HTMLTextAreaElement} editor
   * @param {HTMLElement} before the element the list is shown in front of
   * @param {(item: object) => void} onChoose
   */
  constructor(editor, before, onChoose) {
    this.editor = editor;
    this.onChoose = onChoose;
    this.id = `completion-list-${++nextId}`;
    this.list = document.createElement("ul");
    this.list.className = "completion-list";
    this.list.id = this.id;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Completions");
    this.list.hidden = true;
    before.before(this.list);
    this.items = [];
    this.active = -1;
    editor.setAttribute("aria-autocomplete", "list");
    editor.setAttribute("aria-controls", this.id);
    editor.setAttribute("aria-expanded", "false");
    // A click chooses without taking focus from the editor.
    this.list.addEventListener("mousedown", (e) => e.preventDefault());
    this.list.addEventListener("click", (e) => {
      const option = e.target.closest("[role=option]");
      if (option) this.choose(Number(option.dataset.index));
    });
    editor.addEventListener("blur", () => this.close());
  }

  get open() {
    return !this.list.hidden;
  }

  show(items) {
    this.items = items;
    const options = items.map((item, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = `${this.id}-${i}`;
      li.dataset.index = String(i);
      li.dataset.kind = item.kind;
      const label = document.createElement("span");
      label.className = "completion-label";
      label.textContent = item.label;
      const kind = document.createElement("span");
      kind.className = "completion-kind";
      kind.textContent = item.kind;
      li.append(label, kind);
      return li;
    });
    this.list.replaceChildren(...options);
    this.list.hidden = items.length === 0;
    this.editor.setAttribute("aria-expanded", String(items.length > 0));
    this.select(items.length ? 0 : -1);
  }

  select(index) {
    const options = this.list.children;
    options[this.active]?.setAttribute("aria-selected", "false");
    this.active = index;
    const option = options[index];
    if (option) {
      option.setAttribute("aria-selected", "true");
      option.scrollIntoView({ block: "nearest" });
      this.editor.setAttribute("aria-activedescendant", option.id);
    } else {
      this.editor.removeAttribute("aria-activedescendant");
    }
  }

  move(delta) {
    if (this.items.length === 0) return;
    const n = this.items.length;
    this.select((this.active + delta + n) % n);
  }

  choose(index = this.active) {
    const item = this.items[index];
    this.close();
    if (item) this.onChoose(item);
  }

  close() {
    if (!this.open && this.items.length === 0) return;
    this.items = [];
    this.active = -1;
    this.list.replaceChildren();
    this.list.hidden = true;
    this.editor.setAttribute("aria-expanded", "false");
    this.editor.removeAttribute("aria-activedescendant");
  }

  /**
   * The popup's keys; returns whether the key was used. Arrows move, Enter and Tab choose,
   * Escape closes. Other keys keep editing the text.
   */
  handleKey(e) {
    if (!this.open) return false;
    switch (e.key) {
      case "ArrowDown":
        this.move(1);
        return true;
      case "ArrowUp":
        this.move(-1);
        return true;
      case "Enter":
      case "Tab":
        if (e.shiftKey) return false;
        this.choose();
        return true;
      case "Escape":
        this.close();
        return true;
      default:
        return false;
    }
  }
}
