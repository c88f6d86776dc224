// JSON log lines (one object per line) that CloudWatch Logs Insights can query. Callers pass ids and
// hashes only; the redaction below is a second line of defence, not the first.

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const SECRET_KEYS =
  /^(subject_token|access_token|token|SecretAccessKey|SessionToken|secretAccessKey|sessionToken|d|privateKey|authorization|password)$/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEYS.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

export function jsonLogger(write: (line: string) => void, base: Record<string, unknown> = {}): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(
      `${JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...(redact(fields ?? {}) as object) })}\n`,
    );
  return {
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
