import { UserError } from '../../errors.js';
import { describeOverride, formatPercent, parsePercent } from '../../flags/overrides.js';
import { Store } from '../../store/index.js';
import type { CommandContext } from '../run.js';
import { changeLine, flagsAgent, type FlagList } from './flags-agent.js';

/**
 * `ccom flags` and its subcommands: runtime changes to the app's feature flags without a
 * deploy. The agent applies them at once (the next OFREP evaluation sees them) and keeps them in
 * the app's state; each one is also in the audit trail (`ccom flags history NAME`).
 */
export async function list(ctx: CommandContext): Promise<number> {
  const agent = await flagsAgent(ctx.appDir);
  const doc = await agent.list();
  for (const line of listLines(doc)) ctx.say(line);
  ctx.result(doc, doc.flags.map((f) => f.key).join('\n'));
  return 0;
}

function listLines(doc: FlagList): string[] {
  if (doc.release === null) return ['no release serves: no flags are evaluated'];
  const lines = [`flags of release ${doc.release} (${doc.file ?? 'no flag file'})${doc.problem ? `: ${doc.problem}` : ''}`];
  for (const f of doc.flags) {
    const variants = Object.entries(f.variants).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    const by = f.override ? ` (by ${f.override.by} at ${f.override.at})` : '';
    lines.push(`  ${f.key}  ${f.state.toLowerCase()}  ${f.serving}${by}  [${variants}]`);
  }
  for (const o of doc.orphanedOverrides) lines.push(`  ⚠ ${o.key}: override kept, but the flag is gone from the file (\`ccom flags clear ${o.key}\`)`);
  if (doc.guard) lines.push(`  guarded rollout of ${doc.guard.flag} running (pid ${doc.guard.pid})`);
  return lines;
}

/** `ccom flags set NAME on|off|VARIANT`: one variant for everyone. */
export async function set(ctx: CommandContext): Promise<number> {
  const [name, value] = ctx.args as [string, string];
  const agent = await flagsAgent(ctx.appDir);
  const change = await agent.change(name, { kind: 'set', value });
  ctx.say(`✔ ${changeLine(change)}`);
  ctx.result({ change }, describeOverride(change.new?.override));
  return 0;
}

/** `ccom flags off NAME`: the kill switch, the flag's off variant for everyone at once. */
export async function off(ctx: CommandContext): Promise<number> {
  const [name] = ctx.args as [string];
  const agent = await flagsAgent(ctx.appDir);
  const change = await agent.change(name, { kind: 'set', value: 'off' }, 'kill switch (ccom flags off)');
  ctx.say(`■ ${changeLine(change)}`);
  ctx.result({ change }, describeOverride(change.new?.override));
  return 0;
}

/** `ccom flags clear NAME`: back to what the file says. */
export async function clear(ctx: CommandContext): Promise<number> {
  const [name] = ctx.args as [string];
  const agent = await flagsAgent(ctx.appDir);
  const change = await agent.change(name, { kind: 'clear' });
  ctx.say(`✔ ${changeLine(change)}`);
  ctx.result({ change }, describeOverride(change.new?.override));
  return 0;
}

/** `ccom flags rollout NAME 10%` (one share, sticky), or with --steps a guarded rollout. */
export async function rollout(ctx: CommandContext): Promise<number> {
  const [name, share] = ctx.args as [string, string | undefined];
  if (ctx.opts.steps !== undefined) {
    const { guardedRollout } = await import('./flags-rollout.js');
    return guardedRollout(ctx, name);
  }
  if (share === undefined) throw new UserError('flags rollout needs a share or --steps', { fix: `\`ccom flags rollout ${name} 10%\` or \`ccom flags rollout ${name} --steps 10,50,100 --interval 5m\`` });
  const percent = parsePercent(share);
  if (percent === undefined) throw new UserError(`not a share of traffic: ${JSON.stringify(share)}`, { fix: 'give a percentage from 0% to 100%, like 10%' });
  const agent = await flagsAgent(ctx.appDir);
  const change = await agent.change(name, { kind: 'rollout', percent });
  ctx.say(`✔ ${changeLine(change)}`);
  ctx.result({ change }, formatPercent(percent));
  return 0;
}

/** `ccom flags promote|abort NAME`: tells a guarded rollout in another terminal to go on, or to turn the flag off. */
export async function decide(ctx: CommandContext, decision: 'promote' | 'abort'): Promise<number> {
  const [name] = ctx.args as [string];
  const agent = await flagsAgent(ctx.appDir);
  await agent.decide(name, decision);
  ctx.say(`${decision === 'promote' ? '▶' : '■'} ${decision} sent to the guarded rollout of ${name}`);
  ctx.result({ flag: name, decision }, decision);
  return 0;
}

/** `ccom flags history NAME`: every change of the flag, newest first, from the audit trail. */
export async function history(ctx: CommandContext): Promise<number> {
  const [name] = ctx.args as [string];
  const store = Store.open(ctx.appDir);
  let entries;
  try {
    entries = store.listAudit(100_000).filter((e) => e.action.startsWith('flags.') && e.detail.flag === name);
  } finally {
    store.close();
  }
  const rows = entries.map((e) => ({ at: e.at, who: e.who, action: e.action, old: e.detail.old ?? null, new: e.detail.new ?? null, reason: e.detail.reason ?? null }));
  if (rows.length === 0) ctx.say(`no changes of ${name} recorded`);
  for (const r of rows) {
    const o = (r.old as { override?: never } | null)?.override;
    const n = (r.new as { override?: never } | null)?.override;
    ctx.say(`${r.at}  ${r.who}  ${r.action === 'flags.killed' ? 'killed: ' : ''}${describeOverride(o)} → ${describeOverride(n)}${r.reason ? `  (${String(r.reason)})` : ''}`);
  }
  ctx.result({ flag: name, history: rows }, rows.map((r) => `${r.at} ${r.who}`).join('\n'));
  return 0;
}
