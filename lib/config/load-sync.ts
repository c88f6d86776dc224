// The synchronous twin of load.ts, for `cdk synth`: CDK constructs are built synchronously, and a bad config
// or Cedar policy must stop synth with the file and line, before anything is bundled.
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { globSync } from "tinyglobby";
import { parse as parseYaml } from "yaml";
import {
  type ConfigBundle,
  ConfigError,
  type ResolvedConfig,
  resolveConfig,
  validateConfig,
} from "./resolve.ts";

export function loadConfigFileSync(path: string): ResolvedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(path, [
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = file.endsWith(".json")
      ? JSON.parse(text)
      : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(path, [`cannot parse: ${(err as Error).message.split("\n")[0]}`]);
  }
  const config = validateConfig(raw, path);
  const baseDir = dirname(file);
  // Each entry must name at least one file: a mistyped one would silently drop its policies (say, every
  // forbid) and the broker would allow what they were there to stop.
  const unmatched = config.policies.flatMap((entry, i) =>
    entry.startsWith("!") || globSync(entry, { cwd: baseDir, onlyFiles: true }).length > 0
      ? []
      : [`policies[${i}]: no file matches ${entry}`],
  );
  if (unmatched.length > 0) throw new ConfigError(path, unmatched);
  const matches = globSync(config.policies, { cwd: baseDir, absolute: true, onlyFiles: true }).sort();
  const policyFiles = matches.map((abs) => ({
    file: relative(baseDir, abs),
    text: readFileSync(abs, "utf8"),
  }));
  return resolveConfig(raw, policyFiles, path);
}

/**
 * What the construct ships to each function: the validated config, its policy texts, and the policies as
 * synth compiled them, so a cold start parses the policy set once instead of validating it again.
 */
export function toConfigBundle(resolved: ResolvedConfig): ConfigBundle {
  return {
    config: resolved.config,
    policyFiles: resolved.policyFiles.map((f) => ({ file: f.file, text: f.text })),
    policies: resolved.policies,
    version: resolved.version,
  };
}
