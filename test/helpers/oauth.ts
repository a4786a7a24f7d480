// The OAuth error code of a failed openid-client call, whether the server
// answered in the body or in a WWW-Authenticate challenge.
export async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const e = err as { error?: string; cause?: unknown };
    if (e.error) return e.error;
    if (Array.isArray(e.cause)) {
      const challenge = e.cause[0] as { parameters?: { error?: string } } | undefined;
      if (challenge?.parameters?.error) return challenge.parameters.error;
    }
    throw err;
  }
  throw new Error('expected the request to fail');
}
