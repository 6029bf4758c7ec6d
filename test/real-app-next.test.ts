import assert from 'node:assert/strict';
import { get } from './helpers/ccom.js';
import { expectBody, realAppSuite } from './helpers/real-app-suite.js';

/**
 * An app made by create-next-app@15 (test/real-apps/next): `ccom init` makes its stock eslint a
 * gate and `next build` the build; `next start` serves it and writes into `.next/` at runtime.
 */
async function servesTheBuiltPage(url: string): Promise<void> {
  await expectBody(url, 200, 'Get started by editing');
  const html = (await get(url)).body;
  const chunk = html.match(/\/_next\/static\/[^"]+\.js/)?.[0];
  assert.ok(chunk, 'the page links the build\'s static chunks');
  assert.equal((await get(url + chunk)).status, 200, `GET ${chunk}`);
}

const route = (body: string) => `export const dynamic = "force-dynamic";\n\n${body}`;

realAppSuite({
  name: 'next',
  served: servesTheBuiltPage,
  v2: {
    files: () => ({ 'app/api/hello/route.ts': route('export function GET() {\n  return Response.json({ hello: "v2" });\n}\n') }),
    served: (url) => expectBody(url + '/api/hello', 200, '{"hello":"v2"}'),
  },
  rolledBack: async (url) => {
    await servesTheBuiltPage(url);
    assert.equal((await get(url + '/api/hello')).status, 404, 'the first release has no /api/hello');
  },
  bad: {
    // One request in four of /api/hello fails, the way a bad release of one route does.
    files: () => ({
      'app/api/hello/route.ts': route(
        'let served = 0;\n\nexport function GET() {\n  served += 1;\n  if (served % 4 === 0) return new Response("flaky hello", { status: 500 });\n  return Response.json({ hello: "v3" });\n}\n',
      ),
    }),
    path: '/api/hello',
    marker: 'flaky hello',
  },
});
