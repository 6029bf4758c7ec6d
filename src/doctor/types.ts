import type { Check } from '../targets/contract/checks.js';

/** Checks are the Target contract's shape: targets run capacity and routing checks for doctor. */
export type { CapacityNeeds, Check } from '../targets/contract/checks.js';

export const pass = (name: string, message: string): Check => ({ name, status: 'pass', message });
export const warn = (name: string, message: string, fix: string): Check => ({ name, status: 'warn', message, fix });
export const fail = (name: string, message: string, fix: string): Check => ({ name, status: 'fail', message, fix });
