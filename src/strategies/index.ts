import type { StrategyName } from '../config/types.js';
import { Blocked } from '../pipeline/failures.js';
import { blueGreen } from './blue-green.js';
import { canary } from './canary.js';
import { rolling } from './rolling.js';
import { recreate } from './recreate.js';
import type { Strategy } from './types.js';

const available: Partial<Record<StrategyName, Strategy>> = { 'blue-green': blueGreen, recreate, canary, rolling };

/** Finds a strategy by name; one this version cannot run blocks the deploy before anything changes. */
export function resolveStrategy(name: StrategyName): Strategy {
  const strategy = available[name];
  if (!strategy) {
    throw new Blocked(`strategy "${name}" is not available in this version of ccom`, {
      fix: `use strategy: blue-green (zero downtime) or recreate in ccom.yaml, or pass --strategy blue-green`,
    });
  }
  return strategy;
}
