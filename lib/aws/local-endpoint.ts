// A loopback AWS endpoint (dynalite, the test fixtures behind `credbroker dev`) needs no real credentials:
// when the caller has none, SDK clients get dummy ones instead of failing the credential chain.

export const isLoopback = (url: string | undefined): boolean => {
  if (!url) return false;
  try {
    return ["127.0.0.1", "localhost", "[::1]", "::1"].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

const hasAwsCredentials = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(
    env["AWS_ACCESS_KEY_ID"] ||
      env["AWS_PROFILE"] ||
      env["AWS_WEB_IDENTITY_TOKEN_FILE"] ||
      env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] ||
      env["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
  );

/** Client options with dummy credentials for a loopback endpoint when the caller has none; else nothing. */
export function localCredentials(endpoint: string | undefined, env: NodeJS.ProcessEnv) {
  return isLoopback(endpoint) && !hasAwsCredentials(env)
    ? { credentials: { accessKeyId: "credbroker-local", secretAccessKey: "credbroker-local" } }
    : {};
}
