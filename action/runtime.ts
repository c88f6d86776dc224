// The GitHub Actions runtime commands the action needs, written out by hand so the action has no npm
// dependencies and runs from source (see action.yml): inputs, masking, GITHUB_ENV/OUTPUT/STATE files.
// Formats follow @actions/core: workflow commands on stdout, `NAME<<DELIMITER` blocks in the files.
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";

export type Env = Record<string, string | undefined>;

export class ActionsRuntime {
  readonly env: Env;
  readonly #write: (text: string) => void;

  constructor(env: Env = process.env, write: (text: string) => void = (t) => void process.stdout.write(t)) {
    this.env = env;
    this.#write = write;
  }

  /** `with:` inputs arrive as INPUT_<NAME> with the name upper-cased (hyphens kept, spaces as `_`). */
  input(name: string, options: { required?: boolean } = {}): string {
    const value = (this.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
    if (options.required && value === "") throw new Error(`input ${name} is required`);
    return value;
  }

  /** From here on the runner replaces the value with *** in every log line. */
  mask(value: string): void {
    if (value !== "") this.#command("add-mask", value);
  }

  exportVariable(name: string, value: string): void {
    this.#appendFile("GITHUB_ENV", name, value);
  }

  setOutput(name: string, value: string): void {
    this.#appendFile("GITHUB_OUTPUT", name, value);
  }

  /** State for the post step, which reads it back as STATE_<name>. Never a secret: it is not masked. */
  saveState(name: string, value: string): void {
    this.#appendFile("GITHUB_STATE", name, value);
  }

  state(name: string): string {
    return this.env[`STATE_${name}`] ?? "";
  }

  info(message: string): void {
    this.#write(`${message}\n`);
  }

  warning(message: string): void {
    this.#command("warning", message);
  }

  error(message: string): void {
    this.#command("error", message);
  }

  #command(name: string, message: string): void {
    const escaped = message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    this.#write(`::${name}::${escaped}\n`);
  }

  #appendFile(variable: "GITHUB_ENV" | "GITHUB_OUTPUT" | "GITHUB_STATE", name: string, value: string): void {
    const file = this.env[variable];
    if (!file) throw new Error(`${variable} is not set: this must run as a GitHub Actions step`);
    const delimiter = `ghadelimiter_${randomUUID()}`;
    if (name.includes(delimiter) || value.includes(delimiter))
      throw new Error(`the value of ${name} contains the delimiter`);
    appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`, "utf8");
  }
}
