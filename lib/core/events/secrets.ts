/** The webhook secrets of CONTRACT §13, read where they live (an environment variable, Secrets Manager). */
export interface WebhookSecrets {
  /** The source's secret; undefined when the config has no such source. Rejects when it cannot be read. */
  secret(source: "github" | "gitlab"): Promise<string | undefined>;
}
