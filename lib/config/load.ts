// Reads broker.config.yaml (or .json) and the policy files its globs name, relative to the config file.
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { glob } from "tinyglobby";
import { parse as parseYaml } from "yaml";
import { ConfigError, type ResolvedConfig, resolveConfig, validateConfig } from "./resolve.ts";

export async function loadConfigFile(path: string): Promise<ResolvedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
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
  const matches = await glob(config.policies, { cwd: baseDir, absolute: true, onlyFiles: true });
  const policyFiles = await Promise.all(
    matches.sort().map(async (abs) => ({ file: relative(baseDir, abs), text: await readFile(abs, "utf8") })),
  );
  return resolveConfig(raw, policyFiles, path);
}

/** The bundle form of a config, as the CDK construct ships it to Lambda: the config plus its policy texts. */
export interface ConfigBundle {
  config: unknown;
  policyFiles: { file: string; text: string }[];
}

export async function bundleConfig(path: string): Promise<ConfigBundle> {
  const resolved = await loadConfigFile(path);
  return {
    config: resolved.config,
    policyFiles: resolved.policyFiles.map((f) => ({ file: f.file, text: f.text })),
  };
}
