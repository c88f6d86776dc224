// Config defaults that code outside the schema needs (the stores' retention), in a module of their own so
// that importing one does not load the whole zod schema (the Lambda bundles do without it: shipped.ts).
/** How long finished grants and audit events are kept when the config does not say: 400 days. */
export const DEFAULT_RETENTION_DAYS = 400;
