// How the user runs this CLI, so that a command it prints can be pasted as it is: `node bin/credbroker.js`
// in a checkout (the path from where they stand), `credbroker` once the package is installed.
import { basename, dirname, isAbsolute, relative } from "node:path";

export function cliCommand(script = process.argv[1], cwd = process.cwd()): string {
  if (!script || basename(script) !== "credbroker.js" || basename(dirname(script)) !== "bin")
    return "credbroker";
  const path = relative(cwd, script);
  // Outside the checkout a relative path would climb out of it: the absolute one reads better.
  return `node ${path.startsWith("..") || isAbsolute(path) ? script : path}`;
}
