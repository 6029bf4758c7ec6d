/** The name a Host header asks for: lowercase, without the port (`[::1]:443` keeps its brackets off). */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(1, trimmed.indexOf(']'));
  const colon = trimmed.lastIndexOf(':');
  // `shop.example.com.` (fully qualified, with the root's dot) is the same name.
  return (colon === -1 ? trimmed : trimmed.slice(0, colon)).replace(/\.$/, '');
}

/** The 421 body: which names this port serves, so a wrong DNS entry or a typo is obvious. */
export function misdirected(asked: string | undefined, domains: string[], how: string): string {
  return `421 misdirected request: this server answers ${domains.join(', ')}, not ${asked === undefined ? 'a request without a host name' : `"${asked}"`} (${how}); point that name's DNS at its own server or add it to domains in ccom.yaml\n`;
}

/** `https://shop.example.com` (the port only when it is not 443). */
export function httpsUrl(domain: string, port: number): string {
  return port === 443 ? `https://${domain}` : `https://${domain}:${port}`;
}
