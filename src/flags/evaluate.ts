import type { FlagDefinition, FlagMetadata, FlagSet, FlagType, VariantValue } from './definitions.js';
import { LogicRuntimeError } from './json-logic.js';
import { fractional } from './operators.js';
import type { FlagOverride } from './overrides.js';
import { ROLLOUT_SCALE } from './overrides.js';

/** OFREP's reasons (the OpenFeature standard resolution reasons ccom gives). */
export type Reason = 'STATIC' | 'TARGETING_MATCH' | 'DEFAULT' | 'DISABLED' | 'ERROR';
export type ErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TYPE_MISMATCH' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';

export interface EvaluationSuccess {
  key: string;
  value: VariantValue;
  variant: string;
  reason: Exclude<Reason, 'ERROR'>;
  metadata: FlagMetadata;
}

export interface EvaluationFailure {
  key: string;
  reason: 'ERROR';
  errorCode: ErrorCode;
  errorDetails: string;
  metadata?: FlagMetadata;
}

export type Evaluation = EvaluationSuccess | EvaluationFailure;

export type EvaluationContext = Record<string, unknown>;

export function isFailure(e: Evaluation): e is EvaluationFailure {
  return e.reason === 'ERROR';
}

/**
 * One flag for one context, as flagd evaluates it, with ccom's runtime override (set, rollout,
 * kill switch) taking the place of the file's state and targeting. `expected`: the type the
 * caller asked for (an in-process caller; OFREP leaves that check to the provider).
 */
export function evaluateFlag(set: FlagSet | undefined, key: string, context: EvaluationContext, override?: FlagOverride, expected?: FlagType): Evaluation {
  const flag = set?.flags.get(key);
  if (!flag) return { key, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorDetails: `flag '${key}' not found`, metadata: set?.metadata };
  const result = override ? overridden(flag, context, override) : fromFile(flag, context);
  if (expected && !isFailure(result) && typeOf(result.value) !== expected) {
    return { key, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', errorDetails: `flag '${key}' is a ${flag.type}, not a ${expected}`, metadata: flag.metadata };
  }
  return result;
}

function fromFile(flag: FlagDefinition, context: EvaluationContext): Evaluation {
  if (flag.state === 'DISABLED') {
    // OFREP needs a value: a disabled flag answers its default variant, and says DISABLED.
    if (flag.defaultVariant === null) return { key: flag.key, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorDetails: `flag '${flag.key}' is disabled and has no default variant`, metadata: flag.metadata };
    return success(flag, flag.defaultVariant, 'DISABLED');
  }
  if (!flag.rule) return variantOrDefault(flag, flag.defaultVariant, 'STATIC');
  let outcome: unknown;
  try {
    outcome = flag.rule(withFlagd(context, flag.key));
  } catch (err) {
    const why = err instanceof LogicRuntimeError ? err.message : `targeting failed: ${(err as Error).message}`;
    return { key: flag.key, reason: 'ERROR', errorCode: 'GENERAL', errorDetails: `flag '${flag.key}': ${why}`, metadata: flag.metadata };
  }
  if (outcome === null || outcome === undefined) return variantOrDefault(flag, flag.defaultVariant, 'DEFAULT');
  return variantOrDefault(flag, String(outcome), 'TARGETING_MATCH');
}

function overridden(flag: FlagDefinition, context: EvaluationContext, override: FlagOverride): Evaluation {
  if (override.kind === 'variant') return variantOrDefault(flag, override.variant, 'STATIC');
  // A rollout is flagd's own `fractional` over the targeting key: [[on, share], [off, rest]].
  const share = Math.round(override.percent * (ROLLOUT_SCALE / 100));
  const picked = fractional([[override.on, share], [override.off, ROLLOUT_SCALE - share]], withFlagd(context, flag.key));
  if (picked === null) return variantOrDefault(flag, override.off, 'DEFAULT');
  return variantOrDefault(flag, String(picked), 'TARGETING_MATCH');
}

function variantOrDefault(flag: FlagDefinition, variant: string | null, reason: EvaluationSuccess['reason']): Evaluation {
  if (variant === null) {
    return { key: flag.key, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorDetails: `flag '${flag.key}' has no default variant: the caller's default applies`, metadata: flag.metadata };
  }
  if (!Object.hasOwn(flag.variants, variant)) {
    return { key: flag.key, reason: 'ERROR', errorCode: 'GENERAL', errorDetails: `variant '${variant}' not found in flag '${flag.key}'`, metadata: flag.metadata };
  }
  return success(flag, variant, reason);
}

function success(flag: FlagDefinition, variant: string, reason: EvaluationSuccess['reason']): EvaluationSuccess {
  return { key: flag.key, value: flag.variants[variant] as VariantValue, variant, reason, metadata: flag.metadata };
}

/** The data a rule sees: the context plus flagd's `$flagd` properties. */
function withFlagd(context: EvaluationContext, flagKey: string): Record<string, unknown> {
  return { ...context, $flagd: { flagKey, timestamp: Math.floor(Date.now() / 1000) } };
}

function typeOf(value: VariantValue): FlagType {
  return typeof value === 'object' ? 'object' : (typeof value as FlagType);
}
