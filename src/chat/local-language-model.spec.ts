import { generateText, streamText, wrapLanguageModel, type ModelMessage } from 'ai';
import { LocalLanguageModel } from './local-language-model';

const ask = (content: string): ModelMessage[] => [{ role: 'user', content }];

/** Every part of the model's own stream for one user message, called as the AI SDK calls it. */
async function streamedParts(model: LocalLanguageModel, text: string, maxOutputTokens?: number) {
  const { stream } = await model.doStream({
    prompt: [{ role: 'user', content: [{ type: 'text', text }] }],
    maxOutputTokens,
  });
  const parts: { type: string; delta?: string }[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe('LocalLanguageModel', () => {
  it('is a language model of the installed ai: the version wrapLanguageModel gives is its own', () => {
    const model = new LocalLanguageModel();
    expect(wrapLanguageModel({ model, middleware: [] }).specificationVersion).toBe(model.specificationVersion);
  });

  it('answers the same prompt with the same text, in generateText and streamText, from any instance', async () => {
    const generated = await generateText({ model: new LocalLanguageModel(), messages: ask('What is a cache?') });
    const streamed = streamText({ model: new LocalLanguageModel(), messages: ask('What is a cache?') });
    expect(await streamed.text).toBe(generated.text);
    expect(generated.text).toMatch(/^[A-Z][a-z]*( [a-z]+)*\.( [A-Z][a-z]*( [a-z]+)*\.)*$/);
    expect(generated.finishReason).toBe('stop');
    expect(generated.usage.inputTokens).toBe(4);
    expect(generated.usage.outputTokens).toBe(generated.text.split(' ').length);
  });

  it('answers another prompt with another text', async () => {
    const model = new LocalLanguageModel();
    const [a, b, c] = await Promise.all(
      ['What is a cache?', 'What is a cache', 'What is a Cache?'].map(
        async (question) => (await generateText({ model, messages: ask(question) })).text,
      ),
    );
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('streams its metadata, then one text delta per token, then the end and the finish', async () => {
    const parts = await streamedParts(new LocalLanguageModel(), 'Stream it');
    expect(parts.slice(0, 3).map((part) => part.type)).toEqual(['stream-start', 'response-metadata', 'text-start']);
    expect(parts.slice(-2).map((part) => part.type)).toEqual(['text-end', 'finish']);
    const deltas = parts.slice(3, -2);
    expect(deltas.every((part) => part.type === 'text-delta')).toBe(true);
    expect(deltas.length).toBeGreaterThanOrEqual(16);
    expect(deltas.length).toBeLessThanOrEqual(48);
    expect(deltas.slice(1).every((part) => part.delta!.startsWith(' '))).toBe(true);
  });

  it('gives exactly maxOutputTokens tokens when the call sets it, with the finish reason length', async () => {
    const parts = await streamedParts(new LocalLanguageModel(), 'Long', 495);
    expect(parts).toHaveLength(500);
    const generated = await generateText({
      model: new LocalLanguageModel(),
      messages: ask('Long'),
      maxOutputTokens: 3,
    });
    expect(generated.text.split(' ')).toHaveLength(3);
    expect(generated.finishReason).toBe('length');
  });

  it('stops a call whose signal aborts: its stream errors with the reason', async () => {
    const model = new LocalLanguageModel({ tokenLatencyMs: 60_000 });
    const abort = new AbortController();
    const { stream } = await model.doStream({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'slow' }] }],
      abortSignal: abort.signal,
    });
    const reader = stream.getReader();
    for (const type of ['stream-start', 'response-metadata', 'text-start']) {
      expect((await reader.read()).value?.type).toBe(type);
    }
    const waiting = reader.read();
    abort.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    await expect(
      model.doGenerate({
        prompt: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
        abortSignal: abort.signal,
      }),
    ).rejects.toThrow('gone');
  });
});
