import { createHash } from 'node:crypto';

/** What of a call, besides its values, decides the vectors a model returns. */
interface VariantSource {
  readonly model: { readonly provider: string; readonly modelId: string };
  readonly params: { readonly providerOptions?: unknown };
}

/**
 * A fixed-length digest (a SHA-256 in base64url, 43 characters) of what, besides a value, decides its vector: the
 * model, the requested `dimensions` (ai 7) and the provider options, where
 * providers read settings such as OpenAI's `dimensions` or Google's `taskType`.
 * The middleware prefixes every value with it, so a cached vector only answers
 * a call that would have got the same vector from the model. Headers and the
 * abort signal are left out: they change how a request is sent, not its answer.
 * Undefined for options that JSON cannot write (a BigInt, a cycle): no digest
 * tells them apart for sure, so such a call is not cached.
 */
export function callVariant({ model, params }: VariantSource): string | undefined {
  const { dimensions } = params as { dimensions?: number };
  let identity: string;
  try {
    identity = JSON.stringify(
      [model.provider, model.modelId, dimensions ?? null, params.providerOptions ?? {}],
      sortedKeys,
    );
  } catch {
    return undefined;
  }
  return createHash('sha256').update(identity).digest('base64url');
}

/** JSON.stringify replacer: every object's keys in one order, so equal options give equal digests. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const object = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((key) => [key, object[key]]),
  );
}
