import type { LanguageModelV3 } from './local-language-model';

/** The language model POST /chat answers with: a provider's model in a real backend. */
export type ChatModel = LanguageModelV3;

/** The injection token of the ChatModel; a LocalLanguageModel unless overridden. */
export const CHAT_MODEL = Symbol('CHAT_MODEL');
