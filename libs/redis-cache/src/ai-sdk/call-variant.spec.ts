import { callVariant } from './call-variant';

const model = { provider: 'openai.embedding', modelId: 'text-embedding-3-small' };

describe('callVariant', () => {
  it('is a base64url digest of fixed length, the same for the same model and options', () => {
    const params = { values: ['a'], providerOptions: { openai: { dimensions: 256 } } };
    const variant = callVariant({ model, params });
    expect(variant).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const otherValues = { ...params, values: ['b'] };
    expect(callVariant({ model: { ...model }, params: otherValues })).toBe(variant);
  });

  it('differs by provider, model id, requested dimensions and provider options', () => {
    const base = callVariant({ model, params: { providerOptions: { openai: { user: 'u' } } } });
    const others = [
      callVariant({
        model: { ...model, provider: 'azure.embedding' },
        params: { providerOptions: { openai: { user: 'u' } } },
      }),
      callVariant({
        model: { ...model, modelId: 'text-embedding-3-large' },
        params: { providerOptions: { openai: { user: 'u' } } },
      }),
      callVariant({ model, params: { providerOptions: { openai: { user: 'u' } }, dimensions: 256 } as object }),
      callVariant({ model, params: { providerOptions: { openai: { user: 'u', dimensions: 256 } } } }),
      callVariant({ model, params: { providerOptions: { google: { user: 'u' } } } }),
    ];
    expect(new Set([base, ...others]).size).toBe(6);
  });

  it('ignores the order of keys, at every depth', () => {
    const one = { google: { taskType: 'RETRIEVAL_QUERY', outputDimensionality: 768 }, app: { userId: 'u' } };
    const other = { app: { userId: 'u' }, google: { outputDimensionality: 768, taskType: 'RETRIEVAL_QUERY' } };
    expect(callVariant({ model, params: { providerOptions: one } })).toBe(
      callVariant({ model, params: { providerOptions: other } }),
    );
  });

  it('is undefined for provider options that JSON cannot write: a BigInt, a cycle, a toJSON that throws', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    const failing = {
      toJSON() {
        throw new Error('no');
      },
    };
    for (const options of [{ app: { seed: 10n } }, { app: cycle }, { app: failing }]) {
      expect(callVariant({ model, params: { providerOptions: options } })).toBeUndefined();
    }
  });

  it('takes no provider options as empty ones, and leaves headers and the abort signal out', () => {
    const none = callVariant({ model, params: {} });
    expect(callVariant({ model, params: { providerOptions: {} } })).toBe(none);
    const sent = {
      headers: { authorization: 'Bearer x', traceparent: '00-1' },
      abortSignal: new AbortController().signal,
    };
    expect(callVariant({ model, params: sent as object })).toBe(none);
  });
});
