import { UserError } from '../errors.js';

/**
 * A value for `ccom env set`: all of stdin when it is piped (one trailing newline dropped), or
 * typed at a prompt that echoes nothing. Never from argv, where `ps` and shell history see it.
 */
export async function readSecret(name: string, opts: { mayPrompt: boolean }): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!opts.mayPrompt) {
    throw new UserError(`no value for ${name}: stdin is a terminal and --json/--yes never prompt`, { fix: `pipe the value in: \`printf %s "$VALUE" | ccom env set ${name}\`` });
  }
  return prompt(`value for ${name} (not shown): `);
}

function prompt(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: UserError) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new UserError('cancelled: nothing was set', { fix: 'run `ccom env set NAME` again' }));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
