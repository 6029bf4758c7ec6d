import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { CONFIG_FILES } from './load.js';

/**
 * Writes `ccom.yaml` in `appDir` and returns its path. Refuses (UserError) when a ccom.yaml,
 * ccom.yml or ccom.json already exists, unless `force`. The write is atomic (temp file + rename),
 * so an interrupted init never leaves half a config behind.
 */
export function writeConfig(appDir: string, yamlText: string, opts: { force?: boolean } = {}): string {
  const dir = path.resolve(appDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(`app directory ${dir} does not exist`, { fix: 'pass the app directory with -C <path>' });
  }
  const existing = CONFIG_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  if (existing.length > 0 && !opts.force) {
    throw new UserError(`${existing.join(' and ')} already exists in ${dir}; not overwriting it`, { fix: 'pass --force to overwrite' });
  }
  const target = path.join(dir, 'ccom.yaml');
  const temp = path.join(dir, `.ccom.yaml.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, yamlText.endsWith('\n') ? yamlText : `${yamlText}\n`);
    fs.renameSync(temp, target);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new UserError(`cannot write ${target}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { fix: `check that ${dir} is writable`, cause: err });
  }
  return target;
}
