// Reads a document shaped like `aws iam get-account-authorization-details` writes it, a top-level object of
// arrays of objects, one text chunk at a time, and hands over each element of each array as soon as it is
// complete. Only the element being read is held, so memory follows the largest element, not the document.
// Each element is parsed with JSON.parse; the structure around the elements is checked here.
import { InventoryError } from "./errors.ts";

export interface JsonElementsOptions {
  /** The arrays whose elements are wanted. */
  lists: readonly string[];
  /** Other top-level keys that may appear, with scalar values (e.g. IsTruncated). */
  scalars: readonly string[];
  onElement(list: string, element: unknown): void;
  onScalar?(key: string, text: string): void;
  /** Prefix of every error message. */
  what: string;
}

export class JsonElements {
  private depth = 0;
  private inString = false;
  private escape = false;
  private started = false;
  private ended = false;
  /** At depth 1: the next string is a key. */
  private expectKey = false;
  private keyChars: string[] | undefined;
  private key: string | undefined;
  private scalar: string[] | undefined;
  /** The array the parser is inside (depth 2), and the chunks of the element being read. */
  private list: string | undefined;
  private element: string[] | undefined;
  private elementStart = -1;
  private readonly seen = new Set<string>();

  constructor(private readonly o: JsonElementsOptions) {}

  private fail(message: string): never {
    throw new InventoryError(`${this.o.what}: ${message}`);
  }

  push(chunk: string): void {
    if (this.element) this.elementStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === "\\") this.escape = true;
        else if (c === '"') {
          this.inString = false;
          if (this.keyChars) {
            this.key = this.keyChars.join("");
            this.keyChars = undefined;
          }
        } else if (this.keyChars) this.keyChars.push(c);
        if (this.scalar && !this.keyChars) this.scalar.push(c);
        continue;
      }
      if (this.ended) {
        if (!/\s/.test(c)) this.fail("text after the end of the document");
        continue;
      }
      if (!this.started) {
        if (/\s/.test(c) || c === "\uFEFF") continue;
        if (c !== "{")
          this.fail("not a JSON object (expected the output of get-account-authorization-details)");
        this.started = true;
        this.depth = 1;
        this.expectKey = true;
        continue;
      }
      if (c === '"') {
        if (this.depth === 2) this.fail(`${this.list} holds something that is not an object`);
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.keyChars = [];
          this.expectKey = false;
        } else if (this.depth === 1) {
          this.scalar ??= [];
          this.scalar.push(c);
        }
        continue;
      }
      if (this.depth === 1) this.topLevel(c);
      else if (this.depth === 2) this.inList(c, i);
      else if (c === "{" || c === "[") this.depth++;
      else if (c === "}" || c === "]") {
        this.depth--;
        if (this.depth === 2) this.finishElement(chunk, i);
      }
    }
    if (this.element && this.elementStart >= 0) this.element.push(chunk.slice(this.elementStart));
  }

  private topLevel(c: string): void {
    if (/\s/.test(c)) return;
    if (c === ":") {
      const key = this.key;
      if (key === undefined) this.fail("a key is missing");
      if (this.seen.has(key)) this.fail(`key ${key} appears twice`);
      this.seen.add(key);
      if (!this.o.lists.includes(key) && !this.o.scalars.includes(key))
        this.fail(`unexpected key ${JSON.stringify(key)} (expected ${this.o.lists.join(", ")})`);
      return;
    }
    if (c === "[" || c === "{") {
      if (c === "{" || !this.key || !this.o.lists.includes(this.key))
        this.fail(`${this.key ?? "a value"} is not one of the document's lists`);
      this.list = this.key;
      this.depth = 2;
      return;
    }
    if (c === "," || c === "}") {
      if (this.scalar && this.key) {
        if (!this.o.scalars.includes(this.key)) this.fail(`${this.key} must be a list`);
        this.o.onScalar?.(this.key, this.scalar.join("").trim());
      }
      this.scalar = undefined;
      this.key = undefined;
      this.expectKey = c === ",";
      if (c === "}") {
        this.depth = 0;
        this.ended = true;
      }
      return;
    }
    this.scalar ??= [];
    this.scalar.push(c);
  }

  private inList(c: string, i: number): void {
    if (/\s/.test(c) || c === ",") return;
    if (c === "]") {
      this.depth = 1;
      this.list = undefined;
      return;
    }
    if (c !== "{") this.fail(`${this.list} holds something that is not an object`);
    this.depth = 3;
    this.element = [];
    this.elementStart = i;
  }

  private finishElement(chunk: string, i: number): void {
    const parts = this.element!;
    parts.push(chunk.slice(this.elementStart, i + 1));
    this.element = undefined;
    this.elementStart = -1;
    let value: unknown;
    try {
      value = JSON.parse(parts.join(""));
    } catch (err) {
      this.fail(`an element of ${this.list} is not valid JSON (${(err as Error).message})`);
    }
    this.o.onElement(this.list!, value);
  }

  /** Call once the text is done: a document cut short, or one without every list, is refused. */
  end(): void {
    if (!this.started) this.fail("the file is empty");
    if (!this.ended) this.fail("the document is truncated");
    const missing = this.o.lists.filter((l) => !this.seen.has(l));
    if (missing.length > 0)
      this.fail(`missing ${missing.join(", ")} (not the output of get-account-authorization-details)`);
  }
}
