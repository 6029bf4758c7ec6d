/**
 * The URL to print for the public port. A proxy bound to a wildcard address (0.0.0.0, ::)
 * listens on every interface, but `http://0.0.0.0:8080` is not an address to visit: the
 * loopback address of the same family is, from this machine, always. (Other machines use
 * this machine's own name or address, which ccom cannot know is the one they reach it by.)
 */
export function reachableUrl(url: string | null): string | null {
  if (url === null) return null;
  return url.replace(/^http:\/\/(0\.0\.0\.0|\[::\]|::)(?=:\d+)/, (_all, host: string) => (host === '0.0.0.0' ? 'http://127.0.0.1' : 'http://[::1]'));
}
