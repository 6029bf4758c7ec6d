import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** The guardian's script stays readable by the running shell after it is deleted: no reason to wait. */
const HARMLESS = /\/agent-guardian\.sh$/;

function isZombie(pid: string): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
}

/** An open file under `dir` that has no other name: deleting `dir` would lose what is written to it. */
function holdsOnlyCopy(pid: string, dir: string): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return target.startsWith(`${dir}/`) && !HARMLESS.test(target) && statSync(`/proc/${pid}/fd/${fd}`).nlink < 2;
    } catch {
      return false;
    }
  });
}

/**
 * Live processes (of this user: others' /proc entries are unreadable) that run from `dir` (their
 * working directory is inside it) or write a file inside it that exists nowhere else.
 */
export function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        if (isZombie(p)) return false;
        const cwd = readlinkSync(`/proc/${p}/cwd`);
        return cwd === dir || cwd.startsWith(`${dir}/`) || holdsOnlyCopy(p, dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}
